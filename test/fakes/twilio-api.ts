import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import twilio from 'twilio'
import type RequestClient from 'twilio/lib/base/RequestClient.js'

/**
 * A loopback stand-in for Twilio's REST Messages API, strict about what real Twilio
 * rejects, so that tests drive the real twilio SDK end to end without the network.
 */

export interface TwilioErrorReply {
  status: number
  code: number
  message: string
}

/** Replies the fake can be told to give instead of accepting a message. */
export const TWILIO_FAILURES = {
  invalidNumber: { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
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
  status: 'accepted' | 'queued'
  direction: 'outbound-api'
  api_version: '2010-04-01'
  date_created: string
  date_updated: string
  /** The fake hands a text to the carrier as it accepts it, so this is set at once. */
  date_sent: string
  error_code: null
  error_message: null
  num_media: string
  num_segments: string
  price: null
  price_unit: 'USD'
  uri: string
  subresource_uris: { media: string }
}

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
}

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
  readonly #failures: TwilioErrorReply[] = []
  readonly #now: () => number
  readonly #onAccepted: ((message: TwilioMessageResource) => void) | undefined

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    readonly accountSid: string,
    private readonly authToken: string,
    now: () => number,
    onAccepted: ((message: TwilioMessageResource) => void) | undefined
  ) {
    this.#now = now
    this.#onAccepted = onAccepted
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
      options.onAccepted
    )
    return fake
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
    const match = MESSAGES_PATH.exec(path)
    if (!match || match[1] !== this.accountSid) {
      return fail({ status: 404, code: 20404, message: `The requested resource ${path} was not found` })
    }
    if (req.method !== 'POST' && req.method !== 'GET') {
      return fail({ status: 405, code: 20004, message: 'Method not allowed' })
    }
    const injected = this.#failures.shift()
    if (injected) return fail(injected)
    if (req.method === 'GET') {
      const query = new URL(req.url ?? '/', 'http://fake').searchParams
      return this.list(query, path, reply, fail)
    }

    const to = form.get('To')
    const body = form.get('Body')
    const from = form.get('From')
    const serviceSid = form.get('MessagingServiceSid')
    const validity = form.get('ValidityPeriod')
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
    this.#onAccepted?.(message)
    reply(201, message)
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
