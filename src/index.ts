/**
 * Kronus's public entry point: what a kronus.config.ts and a plugin import. Plugins add
 * their own events and jobs by declaration merging against this module:
 *
 *   declare module 'kronus' {
 *     interface KronusEvents { 'backup.completed': { name: string } }
 *     interface KronusJobs { 'backup.run': { bucket: string } }
 *   }
 */

export type { Clock } from './clock.js'
export type { KronusConfig, KronusConfigInput } from './config/types.js'
export { defineConfig } from './config/types.js'
// For plugins that read or write many rows at once (durable subscribers' `wants`, say).
export { chunks, ROWS_PER_STATEMENT } from './db/chunks.js'
// For plugins whose SQL differs between SQLCipher and PostgreSQL.
export { isPostgres } from './db/dialect.js'
export { pageOfRows } from './db/paging.js'
export { PAGE_SIZE } from './domain/constants.js'
// Services throw these; a plugin that calls a service tells them apart to answer its user.
export {
  ConflictError,
  ForbiddenError,
  KronusError,
  NotFoundError,
  RateLimitedError,
  ValidationError
} from './domain/errors.js'
export type { Page, Paging } from './domain/paging.js'
export { pageCount, pagingOf } from './domain/paging.js'
export type { DurableHandler, EventFilter, EventListener, SubscribeOptions } from './events/log.js'
export { CORE_EVENT_NAMES } from './events/names.js'
// `export *`, not named re-exports: TypeScript merges a plugin's `declare module 'kronus'`
// into the real KronusEvents and KronusJobs only through a star export. Through a named
// re-export it merges into a copy, and augmentations of the declaring file get lost.
export * from './events/types.js'
// The core's HTTP helpers, for plugin routes that keep Kronus's REST contract: access
// checks, the `{ success, data, paging }` envelope, and paging, written once here.
export {
  ADMIN_AUTH,
  actorOf,
  assertLoopbackCaller,
  assertSelf,
  assertSelfOrAdmin,
  optionalActorOf
} from './http/access.js'
export { envelopeSchema, errorSchema, failure, ok, paged, pagedSchema, pageQuery } from './http/envelope.js'
export { id as idSchema, text as textSchema, uidParams } from './http/schemas.js'
export type { CallAnswer, CallAnswerHandler, OutgoingCall } from './messaging/calls.js'
export type { MessagingChannel, OutgoingCallRequest, OutgoingText } from './messaging/channel.js'
export { MessageDeliveryError } from './messaging/channel.js'
export type {
  DeliveryReport,
  InboundHandler,
  InboundResult,
  InboundText,
  IncomingMessage,
  OutgoingMessage
} from './messaging/messaging.js'
export type { PluginDatabase } from './plugins/database.js'
export { definePlugin } from './plugins/define.js'
export type {
  PluginCheckInState,
  PluginContact,
  PluginContacts,
  PluginProbe,
  PluginProbes,
  PluginUser,
  PluginUsers
} from './plugins/facades.js'
export type {
  BeforeDatabaseOpen,
  CommandOutput,
  CoreEventName,
  KronusPlugin,
  PluginCommandContext,
  PluginCommands,
  PluginContext,
  PluginDefinition,
  PluginEventName,
  PluginEvents,
  PluginFactory,
  PluginHealth,
  PluginJobs,
  PluginLifecycle,
  PluginMessaging,
  PluginMetrics,
  PluginMigration,
  PluginQueue,
  PluginSchedules,
  PluginServer,
  PreOpenContext,
  ScheduleOptions
} from './plugins/types.js'
export * from './queue/types.js'
export type { Actor } from './services/context.js'
export type { MetricCounter, MetricCounterSpec } from './services/metrics.js'
// For plugins that write files holding Kronus's data (gcs-backup's downloads and snapshots).
export { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from './util/private-files.js'
// For input that arrives outside the REST schemas: inbound texts are kept, stripped, rather than refused.
export { containsControlCharacter, stripControlCharacters } from './util/text.js'
