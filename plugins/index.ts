/**
 * The plugins that ship with Kronus. List them in kronus.config.ts like any other:
 *
 *   plugins: [twilioSms({ messagesPerSecond: 1 }), smsCommands(), emergencyContact()]
 *
 * `kronus server` adds the ones a configuration implies but does not list (see
 * builtinPlugins), so a config.yml of the first Kronus, which has no plugin list, works.
 */
import type { KronusConfig, KronusPlugin, PluginFactory } from 'kronus'
import { emergencyContact } from './emergency-contact/index.js'
import { gcsBackup } from './gcs-backup/index.js'
import { isSyncEnabled } from './gcs-backup/settings.js'
import { outboundWebhook } from './outbound-webhook/index.js'
import { smsCommands } from './sms-commands/index.js'
import { twilioSms } from './twilio-sms/index.js'

export { type EmergencyContactOptions, emergencyContact } from './emergency-contact/index.js'
export { type GcsBackupOptions, gcsBackup } from './gcs-backup/index.js'
export { type OutboundWebhookOptions, outboundWebhook } from './outbound-webhook/index.js'
export { smsCommands } from './sms-commands/index.js'
export { type TwilioSmsOptions, twilioSms } from './twilio-sms/index.js'

/**
 * Every plugin that ships with Kronus. bin/kronus.js hands it to the command line, which
 * adds the commands they define (gcs-backup's `backup` and `restore`), in this order.
 */
export const pluginCatalogue: readonly PluginFactory<any>[] = [
  gcsBackup,
  twilioSms,
  smsCommands,
  emergencyContact,
  outboundWebhook
]

/**
 * The built-in plugins this configuration needs and does not list by name, with default
 * options: twilio-sms when any twilio key is set, and always sms-commands,
 * emergency-contact (without it an emergency would alert nobody) and outbound-webhook
 * (so users can register their webhooks over REST); gcs-backup when
 * google.storage.enableSqliteBackupAndSync is on for the sqlcipher database outside dev mode.
 */
export function builtinPlugins(
  config: Pick<KronusConfig, 'plugins' | 'twilio' | 'google' | 'database' | 'dev'>
): KronusPlugin<any>[] {
  const listed = new Set(config.plugins.map((plugin) => plugin.name))
  const { accountSid, authToken, messagingServiceSid } = config.twilio
  const implied: KronusPlugin<any>[] = []
  // gcs-backup when backups are on; first, so it stops last and its shutdown backup follows the others' last writes.
  if (isSyncEnabled(config) && !listed.has('gcs-backup')) implied.push(gcsBackup())
  if ((accountSid || authToken || messagingServiceSid) && !listed.has('twilio-sms')) implied.push(twilioSms())
  if (!listed.has('sms-commands')) implied.push(smsCommands())
  if (!listed.has('emergency-contact')) implied.push(emergencyContact())
  if (!listed.has('outbound-webhook')) implied.push(outboundWebhook())
  return implied
}
