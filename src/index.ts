/**
 * Kronus's public entry point: what a kronus.config.ts and a plugin import. Plugins add
 * their own events and jobs by declaration merging against this module:
 *
 *   declare module 'kronus' {
 *     interface KronusEvents { 'backup.completed': { name: string } }
 *     interface KronusJobs { 'backup.run': { bucket: string } }
 *   }
 */
export { defineConfig } from './config/types.js'
export type { KronusConfig, KronusConfigInput } from './config/types.js'

export { definePlugin } from './plugins/define.js'
export type {
  CoreEventName,
  KronusPlugin,
  PluginContext,
  PluginDefinition,
  PluginEventName,
  PluginEvents,
  PluginLifecycle,
  PluginMessaging,
  PluginQueue,
  PluginServer,
  ScheduleOptions
} from './plugins/types.js'

export type { Aliveness, EventName, KronusEvents, ProbeStatusName, RecordedEvent } from './events/types.js'
export type { DurableHandler, EventFilter, EventListener, SubscribeOptions } from './events/log.js'
export { CORE_EVENT_NAMES } from './events/names.js'

export { MessageDeliveryError } from './messaging/channel.js'
export type { MessagingChannel, OutgoingText } from './messaging/channel.js'
export type { IncomingMessage, OutgoingMessage } from './messaging/messaging.js'

export { PermanentJobError } from './queue/types.js'
export type { EnqueueOptions, JobDefinitionOptions, JobHandler, JobName, JobRun, KronusJobs } from './queue/types.js'

export type { Clock } from './clock.js'
