/**
 * What `kronus sms` does: posts a text to POST /webhook/sms of a running server, signed
 * exactly as Twilio signs it, and prints the TwiML reply's texts, one per line.
 */
import { randomBytes } from 'node:crypto'
import type { KronusConfig, PluginCommandContext } from 'kronus'
import { twilioWebhookUrl } from './signature.js'
import { twilioSdk } from './twilio-sdk.js'
import { twimlMessages } from './twiml.js'
import { SMS_WEBHOOK_PATH } from './webhook.js'

export interface SendSmsOptions {
  text: string
  from: string
  /** The server's base URL; by default loopback on the configured port. */
  url?: string
  configFile?: string
}

const REQUEST_TIMEOUT_MS = 30_000

/**
 * The configuration whose twilio.authToken and kronus.publicUrl the server checks signatures
 * with: the configuration as `kronus server` loads it when it has a token, or else as a dev
 * server started in this folder loads it (the dev token in ./dev).
 */
async function signingConfig(cli: PluginCommandContext, file: string | undefined): Promise<KronusConfig> {
  try {
    const config = await cli.loadConfig(file)
    if (config.twilio.authToken) return config
  } catch {
    // No configuration a real server could start with (no key, no file): a dev server's, then.
  }
  return cli.loadConfig(file, { dev: true })
}

/** A MessageSid as Twilio's look: SM and 32 hex digits, new for every text. */
export function messageSid(): string {
  return `SM${randomBytes(16).toString('hex')}`
}

export async function sendSms(cli: PluginCommandContext, options: SendSmsOptions): Promise<string[]> {
  const config = await signingConfig(cli, options.configFile)
  const authToken = config.twilio.authToken!
  const base = (options.url ?? `http://127.0.0.1:${config.kronus.listener.port}`).replace(/\/+$/, '')
  const params = { From: options.from, Body: options.text, MessageSid: messageSid() }
  // Twilio signs the URL configured on the Messaging Service, publicUrl + path, whatever address it reaches.
  const signature = twilioSdk().getExpectedTwilioSignature(
    authToken,
    twilioWebhookUrl(config.kronus.publicUrl, SMS_WEBHOOK_PATH),
    params
  )
  let response: Response
  try {
    response = await fetch(base + SMS_WEBHOOK_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)
    })
  } catch (err) {
    const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message
    throw new Error(
      `no server answers at ${base} (${reason}): start one with "kronus server --dev", or give its address with --url`
    )
  }
  const body = await response.text()
  if (response.status === 401) {
    throw new Error(
      `the server at ${base} refused the signature (401): run "kronus sms" in the folder its dev server was started in, or give --config with the server's twilio.authToken and kronus.publicUrl`
    )
  }
  if (response.status === 404) {
    throw new Error(`the server at ${base} has no ${SMS_WEBHOOK_PATH} (404): it runs without the twilio-sms plugin`)
  }
  if (response.status !== 200) {
    throw new Error(`the server at ${base} answered ${response.status}: ${body.trim()}`)
  }
  const texts = twimlMessages(body)
  for (const text of texts) cli.stdout.write(`${text}\n`)
  if (texts.length === 0) cli.stderr.write('(no reply)\n')
  return texts
}
