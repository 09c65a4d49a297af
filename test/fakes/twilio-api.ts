import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import twilio from 'twilio'
import type RequestClient from 'twilio/lib/base/RequestClient.js'

/**
 * A loopback stand-in for Twilio's REST Messages and Calls APIs, strict about what real
 * Twilio rejects, so that tests drive the real twilio SDK end to end without the network.
 * It also plays Twilio's side of the webhooks a sender asked for: a text's StatusCallback
 * (delivered, undelivered with an error code) and a call's Gather action and
 * StatusCallback, posted signed with the account's auth token, on a test's demand.
 */

export interface TwilioErrorReply {
  status: number
  code: number
  message: string
}

/** Replies the fake can be told to give instead of accepting a message. */
export const TWILIO_FAILURES = {
  invalidNumber: { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
  forbiddenNumber: { status: 400, code: 13225, message: 'Dial: Forbidden phone number' },
  geoPermission: {
    status: 400,
    code: 21215,
    message: 'Account not authorized to call this number. Check your Geo Permissions.'
  },
  highRisk: { status: 400, code: 21216, message: 'Account not allowed to call this number' },
  optedOut: { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  rateLimited: { status: 429, code: 20429, message: 'Too Many Requests' },
  serverError: { status: 500, code: 20500, message: 'An internal server error has occurred' }
} as const satisfies Record<string, TwilioErrorReply>

export interface RecordedTwilioRequest {
  method: string
  path: string
  /** Decoded HTTP Basic credentials, or null when absent or malformed. */
  basicAuth: { username: string; password: string } | null
  contentType: string | undefined
  userAgent: string | undefined
  form: URLSearchParams
  /** The fake's reply status. */
  status: number
  receivedAt: number
}

export interface TwilioMessageResource {
  sid: string
  account_sid: string
  messaging_service_sid: string | null
  from: string | null
  to: string
  body: string
  status: 'accepted' | 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed'
  direction: 'outbound-api'
  api_version: '2010-04-01'
  date_created: string
  date_updated: string
  /** The fake hands a text to the carrier as it accepts it, so this is set at once. */
  date_sent: string
  error_code: number | null
  error_message: string | null
  num_media: string
  num_segments: string
  price: null
  price_unit: 'USD'
  uri: string
  subresource_uris: { media: string }
}

/** A text's StatusCallback, as the fake keeps it beside the message (not part of Twilio's resource). */
export interface TwilioMessageExtras {
  statusCallback: string | null
}

export interface TwilioCallResource {
  sid: string
  account_sid: string
  to: string
  to_formatted: string
  from: string
  from_formatted: string
  status: 'queued' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled'
  direction: 'outbound-api'
  api_version: '2010-04-01'
  date_created: string
  date_updated: string
  start_time: null
  end_time: null
  duration: null
  price: null
  price_unit: 'USD'
  parent_call_sid: null
  phone_number_sid: null
  answered_by: null
  forwarded_from: null
  group_sid: null
  caller_name: null
  queue_time: '0'
  trunk_sid: null
  uri: string
  subresource_uris: Record<string, string>
}

/** A call the fake accepted, with what the sender asked of it. */
export interface RecordedCall {
  resource: TwilioCallResource
  /** The inline TwiML (Twiml) or the Url Twilio would fetch it from; one of the two is set. */
  twiml: string | null
  url: string | null
  statusCallback: string | null
}

/** A webhook post the fake made as Twilio, and Kronus's answer. */
export interface TwilioWebhookPost {
  url: string
  form: Record<string, string>
  signature: string
  status: number
  body: string
}

/**
 * Delivers a webhook post. The default fetches the URL; a test that serves Kronus by
 * `server.inject` passes one that injects it (the URL's host is publicUrl, which nothing
 * listens on).
 */
export type TwilioWebhookSender = (request: {
  url: string
  form: Record<string, string>
  headers: Record<string, string>
}) => Promise<{ status: number; body: string }>

export interface FakeTwilioApiOptions {
  accountSid: string
  authToken: string
  /** Stamps records and resources; pass a FakeClock's now to line them up with the test. */
  now?: () => number
  /**
   * Called once a message is stored, before the reply is written: a test that kills the
   * sender here leaves a text Twilio has and the sender never heard of.
   */
  onAccepted?: (message: TwilioMessageResource) => void
  /** How the fake posts webhooks (status callbacks, Gather); see TwilioWebhookSender. */
  webhooks?: TwilioWebhookSender
}

const CALLS_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/
/** Twilio's limit on a StatusCallback URL and on inline TwiML. */
const MAX_CALLBACK_URL_CHARS = 4000
const MAX_TWIML_CHARS = 4000

const E164 = /^\+[1-9]\d{6,14}$/
const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/
/** Twilio's default and largest page sizes for lists. */
const DEFAULT_PAGE_SIZE = 50
const MAX_PAGE_SIZE = 1000
const MAX_BODY_CHARS = 1600
const MAX_VALIDITY_PERIOD = 36_000

export class FakeTwilioApi {
  readonly requests: RecordedTwilioRequest[] = []
  /** Messages the fake accepted, in order. */
  readonly messages: TwilioMessageResource[] = []
  /** Calls the fake accepted, in order. */
  readonly calls: RecordedCall[] = []
  /** Webhooks the fake posted as Twilio, in order, with Kronus's answers. */
  readonly webhookPosts: TwilioWebhookPost[] = []
  readonly #extras = new Map<string, TwilioMessageExtras>()
  readonly #failures: TwilioErrorReply[] = []
  readonly #now: () => number
  readonly #onAccepted: ((message: TwilioMessageResource) => void) | undefined
  readonly #webhooks: TwilioWebhookSender

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    readonly accountSid: string,
    private readonly authToken: string,
    now: () => number,
    onAccepted: ((message: TwilioMessageResource) => void) | undefined,
    webhooks: TwilioWebhookSender | undefined
  ) {
    this.#now = now
    this.#onAccepted = onAccepted
    this.#webhooks = webhooks ?? fetchWebhook
  }

  static async start(options: FakeTwilioApiOptions): Promise<FakeTwilioApi> {
    let fake: FakeTwilioApi | undefined
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        // A bug in the fake must surface as a loud 500 rather than a hung test.
        sendJson(res, 500, { message: String(error) })
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const { port } = server.address() as AddressInfo
    fake = new FakeTwilioApi(
      server,
      `http://127.0.0.1:${port}`,
      options.accountSid,
      options.authToken,
      options.now ?? Date.now,
      options.onAccepted,
      options.webhooks
    )
    return fake
  }

  /** The StatusCallback the sender gave with this text, or null. */
  statusCallbackOf(messageSid: string): string | null {
    return this.#extras.get(messageSid)?.statusCallback ?? null
  }

  /**
   * Twilio's status callback for a text: the message takes the status (with the error code
   * for undelivered or failed), and the fake posts the form Twilio posts, signed, to the
   * text's StatusCallback. Throws when the text has none.
   */
  async reportStatus(
    messageSid: string,
    status: 'sent' | 'delivered' | 'undelivered' | 'failed',
    errorCode?: number
  ): Promise<TwilioWebhookPost> {
    const message = this.messages.find((m) => m.sid === messageSid)
    if (!message) throw new Error(`the fake has no message ${messageSid}`)
    const url = this.statusCallbackOf(messageSid)
    if (!url) throw new Error(`message ${messageSid} was sent without a StatusCallback`)
    message.status = status
    message.date_updated = rfc2822(this.#now())
    message.error_code = errorCode ?? null
    message.error_message = null
    const form: Record<string, string> = {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      From: message.from ?? '+15550009999',
      MessageSid: message.sid,
      MessageStatus: status,
      ...(message.messaging_service_sid ? { MessagingServiceSid: message.messaging_service_sid } : {}),
      SmsSid: message.sid,
      SmsStatus: status,
      To: message.to,
      ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) })
    }
    return this.postWebhook(url, form)
  }

  /** Messages to this number, oldest first. */
  messagesTo(to: string): TwilioMessageResource[] {
    return this.messages.filter((m) => m.to === to)
  }

  /** Calls to this number, oldest first. */
  callsTo(to: string): RecordedCall[] {
    return this.calls.filter((c) => c.resource.to === to)
  }

  /**
   * Every text with a StatusCallback that has no final status yet is delivered, in the
   * order they were accepted, each with its status callback: a scenario's "the phones got
   * their texts". Returns the posts made.
   */
  async deliverPending(): Promise<TwilioWebhookPost[]> {
    const pending = this.messages.filter(
      (m) => this.statusCallbackOf(m.sid) !== null && !['delivered', 'undelivered', 'failed'].includes(m.status)
    )
    const posts: TwilioWebhookPost[] = []
    for (const message of pending) posts.push(await this.reportStatus(message.sid, 'delivered'))
    return posts
  }

  /** The call's TwiML as the sender gave it; throws for an unknown call or one given by Url. */
  twimlOf(callSid: string): string {
    const call = this.#call(callSid)
    if (call.twiml === null) throw new Error(`call ${callSid} was placed with a Url, not inline TwiML`)
    return call.twiml
  }

  /**
   * The person called presses keys: the fake posts, signed, to the action of the call's
   * first <Gather> as Twilio does, with the call's fields and Digits.
   */
  async pressDigits(callSid: string, digits: string): Promise<TwilioWebhookPost> {
    const call = this.#call(callSid)
    const gather = /<Gather\b[^>]*\baction="([^"]*)"/.exec(call.twiml ?? '')
    if (!gather) throw new Error(`call ${callSid} has no <Gather> with an action`)
    call.resource.status = 'in-progress'
    return this.postWebhook(unescapeXmlAttribute(gather[1]!), { ...this.#callForm(call), Digits: digits })
  }

  /** The call ends with `status`: the fake posts, signed, to the call's StatusCallback. */
  async endCall(callSid: string, status: 'completed' | 'busy' | 'no-answer' | 'failed'): Promise<TwilioWebhookPost> {
    const call = this.#call(callSid)
    call.resource.status = status
    if (!call.statusCallback) throw new Error(`call ${callSid} was placed without a StatusCallback`)
    return this.postWebhook(call.statusCallback, this.#callForm(call))
  }

  /** Posts `form` to `url` as Twilio does: signed with the auth token over the URL and the fields. */
  async postWebhook(url: string, form: Record<string, string>): Promise<TwilioWebhookPost> {
    const signature = twilio.getExpectedTwilioSignature(this.authToken, url, form)
    const answer = await this.#webhooks({
      url,
      form,
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Twilio-Signature': signature,
        'User-Agent': 'TwilioProxy/1.1'
      }
    })
    const post = { url, form, signature, status: answer.status, body: answer.body }
    this.webhookPosts.push(post)
    return post
  }

  #call(callSid: string): RecordedCall {
    const call = this.calls.find((c) => c.resource.sid === callSid)
    if (!call) throw new Error(`the fake has no call ${callSid}`)
    return call
  }

  #callForm(call: RecordedCall): Record<string, string> {
    return {
      AccountSid: this.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: call.resource.sid,
      CallStatus: call.resource.status,
      Called: call.resource.to,
      Caller: call.resource.from,
      Direction: 'outbound-api',
      From: call.resource.from,
      To: call.resource.to
    }
  }

  /** The next `count` authenticated requests get `reply` instead of being processed. */
  failNext(count: number, reply: TwilioErrorReply): void {
    for (let i = 0; i < count; i++) this.#failures.push(reply)
  }

  /** A real twilio SDK client whose requests land on this fake. */
  client(credentials: { accountSid?: string; authToken?: string } = {}): {
    client: ReturnType<typeof twilio>
    http: LoopbackRequestClient
  } {
    const http = new LoopbackRequestClient(this.baseUrl)
    const client = twilio(credentials.accountSid ?? this.accountSid, credentials.authToken ?? this.authToken, {
      httpClient: http
    })
    return { client, http }
  }

  /** Idempotent, so a test may close early to simulate an unreachable API. */
  async close(): Promise<void> {
    if (!this.server.listening) return
    // The SDK keeps connections alive; without this, close() waits for them to idle out.
    this.server.closeAllConnections()
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req)
    const path = (req.url ?? '/').split('?')[0]!
    const contentType = req.headers['content-type']
    const form = contentType?.startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(raw)
      : new URLSearchParams()
    const record: RecordedTwilioRequest = {
      method: req.method ?? '',
      path,
      basicAuth: parseBasicAuth(req.headers.authorization),
      contentType,
      userAgent: req.headers['user-agent'],
      form,
      status: 0,
      receivedAt: this.#now()
    }
    this.requests.push(record)
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status
      sendJson(res, status, body, headers)
    }
    const fail = (e: TwilioErrorReply, headers: Record<string, string> = {}) => reply(e.status, twilioError(e), headers)

    const auth = record.basicAuth
    if (!auth || auth.username !== this.accountSid || auth.password !== this.authToken) {
      return fail(
        { status: 401, code: 20003, message: 'Authenticate' },
        { 'WWW-Authenticate': 'Basic realm="Twilio API"' }
      )
    }
    const callsMatch = CALLS_PATH.exec(path)
    const match = MESSAGES_PATH.exec(path) ?? callsMatch
    if (!match || match[1] !== this.accountSid) {
      return fail({ status: 404, code: 20404, message: `The requested resource ${path} was not found` })
    }
    if (req.method !== 'POST' && req.method !== 'GET') {
      return fail({ status: 405, code: 20004, message: 'Method not allowed' })
    }
    const injected = this.#failures.shift()
    if (injected) return fail(injected)
    if (callsMatch) {
      if (req.method !== 'POST') return fail({ status: 405, code: 20004, message: 'Method not allowed' })
      return this.createCall(form, reply, fail)
    }
    if (req.method === 'GET') {
      const query = new URL(req.url ?? '/', 'http://fake').searchParams
      return this.list(query, path, reply, fail)
    }

    const to = form.get('To')
    const body = form.get('Body')
    const from = form.get('From')
    const serviceSid = form.get('MessagingServiceSid')
    const validity = form.get('ValidityPeriod')
    const statusCallback = form.get('StatusCallback')
    if (!to) return fail({ status: 400, code: 21604, message: "A 'To' phone number is required." })
    if (!body && form.getAll('MediaUrl').length === 0) {
      return fail({ status: 400, code: 21602, message: 'Message body is required.' })
    }
    if (!from && !serviceSid) {
      return fail({
        status: 400,
        code: 21603,
        message: "A 'From' or 'MessagingServiceSid' parameter is required to send a message."
      })
    }
    if (!E164.test(to)) {
      return fail({ status: 400, code: 21211, message: `Invalid 'To' Phone Number: ${to}` })
    }
    if (serviceSid && !/^MG[0-9a-f]{32}$/.test(serviceSid)) {
      return fail({ status: 400, code: 21701, message: `The Messaging Service Sid ${serviceSid} is invalid.` })
    }
    if (body && [...body].length > MAX_BODY_CHARS) {
      return fail({
        status: 400,
        code: 21617,
        message: 'The concatenated message body exceeds the 1600 character limit.'
      })
    }
    if (statusCallback !== null && !isCallbackUrl(statusCallback)) {
      return fail({ status: 400, code: 21609, message: `Invalid 'StatusCallback': ${statusCallback}` })
    }
    if (validity !== null) {
      const seconds = Number(validity)
      if (!/^\d+$/.test(validity) || seconds < 1 || seconds > MAX_VALIDITY_PERIOD) {
        return fail({ status: 400, code: 21624, message: 'Invalid validity period value' })
      }
    }

    const sid = `SM${randomBytes(16).toString('hex')}`
    const stamp = rfc2822(this.#now())
    const resourceUri = `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}`
    const message: TwilioMessageResource = {
      sid,
      account_sid: this.accountSid,
      messaging_service_sid: serviceSid,
      // With a Messaging Service, Twilio picks the sender later, so `from` starts empty.
      from: serviceSid ? null : from,
      to,
      body: body ?? '',
      status: serviceSid ? 'accepted' : 'queued',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: stamp,
      date_updated: stamp,
      date_sent: stamp,
      error_code: null,
      error_message: null,
      num_media: String(form.getAll('MediaUrl').length),
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      uri: `${resourceUri}.json`,
      subresource_uris: { media: `${resourceUri}/Media.json` }
    }
    this.messages.push(message)
    this.#extras.set(sid, { statusCallback })
    this.#onAccepted?.(message)
    reply(201, message)
  }

  /**
   * POST Calls.json as Twilio checks it: To and From required and phone numbers (From must
   * be a number of the account; the fake takes any), Url or Twiml required, Twiml well under
   * 4000 characters, StatusCallback a URL.
   */
  private createCall(
    form: URLSearchParams,
    reply: (status: number, body: unknown) => void,
    fail: (e: TwilioErrorReply) => void
  ): void {
    const rejection = callRejection(form)
    if (rejection) {
      fail(rejection)
      return
    }
    const to = form.get('To')!
    const from = form.get('From')!
    const twiml = form.get('Twiml')
    const url = form.get('Url')
    const statusCallback = form.get('StatusCallback')
    const sid = `CA${randomBytes(16).toString('hex')}`
    const stamp = rfc2822(this.#now())
    const uri = `/2010-04-01/Accounts/${this.accountSid}/Calls/${sid}`
    const resource: TwilioCallResource = {
      sid,
      account_sid: this.accountSid,
      to,
      to_formatted: to,
      from,
      from_formatted: from,
      status: 'queued',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      date_created: stamp,
      date_updated: stamp,
      start_time: null,
      end_time: null,
      duration: null,
      price: null,
      price_unit: 'USD',
      parent_call_sid: null,
      phone_number_sid: null,
      answered_by: null,
      forwarded_from: null,
      group_sid: null,
      caller_name: null,
      queue_time: '0',
      trunk_sid: null,
      uri: `${uri}.json`,
      subresource_uris: { notifications: `${uri}/Notifications.json`, recordings: `${uri}/Recordings.json` }
    }
    this.calls.push({ resource, twiml, url, statusCallback })
    reply(201, resource)
  }

  /**
   * GET Messages.json as Twilio answers it: newest first, filtered by To, From and
   * DateSent (`DateSent=` one day or instant, `DateSent>=` on or after, `DateSent<=` on or
   * before; a bare date covers its whole UTC day), paged by PageSize with a PageToken
   * naming the last message of the page before, so that texts accepted meanwhile do not
   * shift the pages.
   */
  private list(
    query: URLSearchParams,
    path: string,
    reply: (status: number, body: unknown) => void,
    fail: (e: TwilioErrorReply) => void
  ): void {
    const pageSize = query.has('PageSize') ? Number(query.get('PageSize')) : DEFAULT_PAGE_SIZE
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      fail({ status: 400, code: 20001, message: `Invalid PageSize: ${query.get('PageSize')}` })
      return
    }
    const bounds: Array<[string, (sent: number, from: number, to: number) => boolean]> = [
      ['DateSent', (sent, from, to) => sent >= from && sent < to],
      ['DateSent>', (sent, from) => sent >= from],
      ['DateSent<', (sent, _from, to) => sent < to]
    ]
    const dateChecks: Array<(sent: number) => boolean> = []
    for (const [name, check] of bounds) {
      const value = query.get(name)
      if (value === null) continue
      const range = parseDateFilter(value)
      if (!range) {
        fail({ status: 400, code: 20001, message: `Invalid ${name}: ${value}` })
        return
      }
      dateChecks.push((sent) => check(sent, range.from, range.to))
    }
    const to = query.get('To')
    const from = query.get('From')
    const matching = [...this.messages].reverse().filter((m) => {
      if (to !== null && m.to !== to) return false
      if (from !== null && m.from !== from) return false
      const sent = Date.parse(m.date_sent)
      return dateChecks.every((check) => check(sent))
    })
    const token = query.get('PageToken')
    let start = 0
    if (token !== null) {
      const after = matching.findIndex((m) => `PA${m.sid}` === token)
      if (after < 0) {
        fail({ status: 400, code: 20001, message: `Invalid PageToken: ${token}` })
        return
      }
      start = after + 1
    }
    const page = token === null ? 0 : Number(query.get('Page') ?? 0)
    const messages = matching.slice(start, start + pageSize)
    const filters = new URLSearchParams([...query].filter(([key]) => !['Page', 'PageToken', 'PageSize'].includes(key)))
    const pageUri = (extra: Record<string, string>) => {
      const params = new URLSearchParams(filters)
      params.set('PageSize', String(pageSize))
      for (const [key, value] of Object.entries(extra)) params.set(key, value)
      return `${path}?${params}`
    }
    const last = messages.at(-1)
    const hasMore = start + pageSize < matching.length
    reply(200, {
      messages,
      page,
      page_size: pageSize,
      start,
      end: start + messages.length - 1,
      uri: pageUri(token === null ? { Page: String(page) } : { Page: String(page), PageToken: token }),
      first_page_uri: pageUri({ Page: '0' }),
      previous_page_uri: null,
      next_page_uri: hasMore && last ? pageUri({ Page: String(page + 1), PageToken: `PA${last.sid}` }) : null
    })
  }
}

/** A DateSent filter value: a bare date is its whole UTC day, an instant is that second. */
function parseDateFilter(value: string): { from: number; to: number } | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const from = Date.parse(`${value}T00:00:00Z`)
    return Number.isNaN(from) ? null : { from, to: from + 24 * 3600_000 }
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value)) return null
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : { from: at, to: at + 1000 }
}

/**
 * The SDK's own request client, with only the destination swapped: the twilio client
 * still builds the https://api.twilio.com/... URL, headers, auth and form body itself.
 */
export class LoopbackRequestClient extends twilio.RequestClient {
  /** The URLs the SDK meant to call, before rewriting. */
  readonly intendedUris: string[] = []

  constructor(private readonly baseUrl: string) {
    super({ keepAlive: false })
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    this.intendedUris.push(opts.uri)
    const intended = new URL(opts.uri)
    const target = new URL(intended.pathname + intended.search, this.baseUrl)
    return super.request({ ...opts, uri: target.href })
  }
}

/** Why Twilio would refuse this Calls request, or null. */
function callRejection(form: URLSearchParams): TwilioErrorReply | null {
  const to = form.get('To')
  const from = form.get('From')
  const twiml = form.get('Twiml')
  const statusCallback = form.get('StatusCallback')
  if (!to) return { status: 400, code: 21201, message: "No 'To' number is specified" }
  if (!from) return { status: 400, code: 21213, message: "No 'From' number is specified" }
  if (!E164.test(to)) return { status: 400, code: 21211, message: `Invalid 'To' Phone Number: ${to}` }
  if (!E164.test(from)) return { status: 400, code: 21212, message: `Invalid 'From' Phone Number: ${from}` }
  if (!twiml && !form.get('Url')) {
    return { status: 400, code: 21205, message: 'Url parameter is required (or Twiml, or ApplicationSid).' }
  }
  if (twiml && (twiml.length > MAX_TWIML_CHARS || !/^(<\?xml[^>]*\?>)?\s*<Response[\s>/]/.test(twiml))) {
    return { status: 400, code: 21236, message: 'Invalid Twiml: not a <Response> of at most 4000 characters' }
  }
  if (statusCallback !== null && !isCallbackUrl(statusCallback)) {
    return { status: 400, code: 21609, message: `Invalid 'StatusCallback': ${statusCallback}` }
  }
  return null
}

function isCallbackUrl(value: string): boolean {
  if (value.length > MAX_CALLBACK_URL_CHARS) return false
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && !url.hostname.includes('_')
  } catch {
    return false
  }
}

function unescapeXmlAttribute(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}

/** The default webhook sender: a real POST to the URL. */
const fetchWebhook: TwilioWebhookSender = async ({ url, form, headers }) => {
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(form).toString() })
  return { status: res.status, body: await res.text() }
}

function twilioError(e: TwilioErrorReply) {
  return {
    code: e.code,
    message: e.message,
    more_info: `https://www.twilio.com/docs/errors/${e.code}`,
    status: e.status
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

function parseBasicAuth(header: string | undefined): { username: string; password: string } | null {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '')
  if (!match) return null
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000')
}
