import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'
import twilio from 'twilio'
import type RequestClient from 'twilio/lib/base/RequestClient.js'
import { emergencyContact } from '../../plugins/emergency-contact/index.js'
import { smsCommands } from '../../plugins/sms-commands/index.js'
import { type TwilioSmsOptions, twilioSms } from '../../plugins/twilio-sms/index.js'
import { FakeClock } from '../../src/clock.js'
import type { KronusConfigInput, PluginEntry } from '../../src/config/types.js'
import { FakeTwilioApi, LoopbackRequestClient, type TwilioErrorReply } from '../fakes/twilio-api.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import {
  type ApiRequest,
  type ApiResponse,
  agreedBeforeTheTest,
  call,
  createAdmin,
  createUser,
  type TestUser
} from '../helpers/http.js'
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  KRONUS_NUMBER,
  PUBLIC_URL,
  postSms,
  SERVICE_SID
} from '../plugins/twilio-sms/sms-kronus.js'

/*
 * The scenario harness of the alarm engine (issue 14, point 12): one Kronus with the real
 * twilio-sms, sms-commands and emergency-contact plugins, whose texts and calls go through
 * the real twilio SDK to the loopback fake of Twilio, on a fake clock. Everything Twilio
 * would post to Kronus (inbound texts, status callbacks, a key pressed during a call) is
 * posted here as Twilio does, signed with the twilio package's own helper, to the URLs
 * Kronus itself gave Twilio.
 *
 * Time is the fake clock's only: `advance(minutes)` moves it a minute at a time and, after
 * each minute, does what a running server does on its own (the probe scheduler's tick,
 * the plugins' cron, every job now due) until nothing is left to do. So "at minute 10"
 * in a test means "after the tenth minute's work", never wall time.
 */

export const MINUTE = 60_000

/** Twilio takes any 2xx answer to a webhook as handled (it retries nothing else). */
export function accepted(status: number): boolean {
  return status >= 200 && status < 300
}
/** The day the scenarios' check-ins are scheduled: Monday 2026-01-05 at 18:00 UTC. */
export const CHECK_IN_CRON = '0 18 * * *'
export const CHECK_IN_AT = '2026-01-05T18:00:00Z'

export { ACCOUNT_SID, AUTH_TOKEN, KRONUS_NUMBER, SERVICE_SID }

/** Twilio error replies the harness can make the API give for one number. */
export const TWILIO_REPLIES = {
  serverError: { status: 500, code: 20500, message: 'An internal server error has occurred' },
  serviceUnavailable: { status: 503, code: 20503, message: 'Service Unavailable' },
  invalidNumber: { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
  optedOut: { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' }
} as const satisfies Record<string, TwilioErrorReply>

interface Tap {
  teardown(fn: () => unknown): void
}

/** A person of a scenario: a user, a contact, or both (a contact who is also a user). */
export interface Person {
  first_name: string
  last_name: string
  phone: string
}

export interface ScenarioUser extends Person {
  id: number
  token: string
  api: TestUser
}

export interface ScenarioContact extends Person {
  /** The contact's id in its owner's list. */
  id: number
  owner: ScenarioUser
}

/** One text or call Twilio's API accepted, or one TwiML reply to an inbound text. */
export interface Sent {
  kind: 'text' | 'call' | 'reply'
  to: string
  /** The text; for a call, the words spoken (every <Say>), or the TwiML URL when Kronus gave one. */
  body: string
  /** Twilio's id (SM... or CA...), when Twilio gave one. */
  sid: string | null
  /** Fake-clock ms when Twilio got it. */
  at: number
  /** Minutes from the scenario's mark (see Scenario#mark). */
  minute: number
  /** The form the SDK posted (texts and calls). */
  form: URLSearchParams | null
}

/** A request the harness made Twilio's API refuse (see Scenario#refuse). */
export interface Refused {
  to: string
  at: number
  minute: number
  reply: TwilioErrorReply
}

interface Outage {
  to: string
  /** Fake-clock ms from which requests for `to` succeed again; Infinity for never. */
  until: number
  reply: TwilioErrorReply
}

/**
 * The SDK's loopback client, with Twilio outages for chosen numbers: while one is on, a
 * POST for that number gets Twilio's error reply without reaching the fake, as when
 * Twilio's API is down or refuses the number.
 */
class OutageRequestClient extends LoopbackRequestClient {
  readonly outages: Outage[] = []
  readonly refused: Array<{ to: string; at: number; reply: TwilioErrorReply }> = []

  constructor(
    baseUrl: string,
    private readonly clock: FakeClock
  ) {
    super(baseUrl)
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const to = (opts.data as Record<string, unknown> | undefined)?.To
    if (opts.method?.toString().toUpperCase() === 'POST' && typeof to === 'string') {
      const now = this.clock.now()
      const outage = this.outages.find((o) => o.to === to && now < o.until)
      if (outage) {
        this.refused.push({ to, at: now, reply: outage.reply })
        const body = {
          code: outage.reply.code,
          message: outage.reply.message,
          more_info: `https://www.twilio.com/docs/errors/${outage.reply.code}`,
          status: outage.reply.status
        }
        // What the SDK's own client resolves with for an error status: it raises Twilio's RestException from it.
        return Promise.resolve({ statusCode: outage.reply.status, body: body as TData, headers: {} })
      }
    }
    return super.request(opts)
  }
}

export interface ScenarioOptions {
  config?: KronusConfigInput
  twilio?: Partial<TwilioSmsOptions>
  /** Where Kronus logs (silent unless given): a test reads it to check a secret is never in it. */
  logger?: Logger
  /** More plugins, after the three every scenario has (outbound-webhook, say). */
  plugins?: PluginEntry[]
}

let personSequence = 0

/**
 * A North American number of this process. Its exchange comes from the pid but stays in
 * 200–699: exchange 976 is premium-rate, which a contact may not be, and a pid ending in
 * 976 once made a scenario's contacts fail.
 */
function uniquePhone(prefix: string): string {
  personSequence += 1
  return `+1${prefix}${200 + (process.pid % 500)}${String(personSequence).padStart(4, '0')}`
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}

/** The words a TwiML document says (every <Say>), joined. */
export function spokenWords(twiml: string): string {
  return [...twiml.matchAll(/<Say[^>]*>([\s\S]*?)<\/Say>/g)].map((m) => unescapeXml(m[1]!)).join(' ')
}

function gatherAction(twiml: string): string | null {
  const gather = /<Gather\b([^>]*)>/.exec(twiml)
  if (!gather) return null
  const action = /\baction="([^"]*)"/.exec(gather[1]!)
  return action ? unescapeXml(action[1]!) : ''
}

export class Scenario {
  kronus!: TestKronus
  readonly fake: FakeTwilioApi
  readonly clock: FakeClock
  readonly http: OutageRequestClient
  admin!: TestUser
  /** The fake-clock ms that `minute` counts from. */
  zero: number
  readonly replies: Sent[] = []
  readonly #dir: string
  readonly #options: ScenarioOptions
  readonly #t: Tap

  private constructor(t: Tap, fake: FakeTwilioApi, clock: FakeClock, dir: string, options: ScenarioOptions) {
    this.#t = t
    this.fake = fake
    this.clock = clock
    this.#dir = dir
    this.#options = options
    this.http = new OutageRequestClient(fake.baseUrl, clock)
    this.zero = clock.now()
  }

  static async start(t: Tap, options: ScenarioOptions = {}): Promise<Scenario> {
    const clock = new FakeClock()
    const fake = await FakeTwilioApi.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, now: () => clock.now() })
    const dir = mkdtempSync(join(tmpdir(), 'kronus-scenario-'))
    const scenario = new Scenario(t, fake, clock, dir, options)
    t.teardown(async () => {
      try {
        await scenario.kronus?.stop()
        await fake.close()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
    scenario.kronus = await scenario.#build()
    scenario.admin = await createAdmin(scenario.kronus, { first_name: 'Admin', last_name: 'Person' })
    return scenario
  }

  async #build(): Promise<TestKronus> {
    const client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: this.http })
    const input = this.#options.config ?? {}
    return buildKronus(this.#t, {
      clock: this.clock,
      dir: this.#dir,
      logger: this.#options.logger,
      config: {
        ...input,
        kronus: { publicUrl: PUBLIC_URL, ...input.kronus },
        twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, messagingServiceSid: SERVICE_SID, ...input.twilio },
        // One job at a time: texts reach Twilio in the order the queue gives them out.
        jobs: { concurrency: 1, ...input.jobs },
        // Scenarios span days of the fake clock.
        auth: { accessTokenTtlMinutes: 30 * 24 * 60, ...input.auth },
        plugins: [
          // A frozen fake clock never refills a send bucket: pacing has its own tests.
          twilioSms({ client, messagesPerSecond: 1000, burst: 1000, ...this.#options.twilio }),
          smsCommands(),
          emergencyContact(),
          ...(this.#options.plugins ?? [])
        ]
      } as KronusConfigInput
    })
  }

  /** Stops this Kronus (whatever it was doing) and starts a new one on the same database. */
  async restart(): Promise<void> {
    await this.kronus.stop('scenario restart')
    this.kronus = await this.#build()
  }

  /* People */

  async addUser(first_name: string, last_name: string, phone = uniquePhone('555')): Promise<ScenarioUser> {
    const api = await createUser(this.kronus, this.admin, { first_name, last_name, phone_number: phone })
    return { id: api.id, token: api.token, api, first_name, last_name, phone }
  }

  /**
   * An emergency contact of `owner` (or a plain contact with emergency: false), in the order
   * added; agreed before the scenario began (agreedBeforeTheTest) unless `pending: true`.
   */
  async addContact(
    owner: ScenarioUser,
    first_name: string,
    last_name: string,
    options: { phone?: string; emergency?: boolean; pending?: boolean } = {}
  ): Promise<ScenarioContact> {
    const phone = options.phone ?? uniquePhone('666')
    const res = await this.api({
      method: 'POST',
      url: `/v1/users/${owner.id}/contacts`,
      token: owner.token,
      payload: {
        first_name,
        last_name,
        phone_number: phone,
        email: `${first_name.toLowerCase()}.${personSequence}.${process.pid}@example.com`,
        is_emergency_contact: options.emergency ?? true
      }
    })
    if (res.statusCode !== 201) throw new Error(`contact ${first_name}: ${res.statusCode} ${res.payload}`)
    if (res.body.data.is_emergency_contact && !options.pending) await agreedBeforeTheTest(this.kronus, res.body.data)
    return { id: res.body.data.id, owner, first_name, last_name, phone }
  }

  /** Daily check-ins at 18:00 UTC with these follow-ups. */
  async checkIns(user: ScenarioUser, options: { retries?: number; wait?: number } = {}): Promise<void> {
    const res = await this.api({
      method: 'PUT',
      url: `/v1/users/${user.id}/probe_settings`,
      token: user.token,
      payload: {
        active: true,
        cron_expression: CHECK_IN_CRON,
        max_retries: options.retries ?? 2,
        wait_time_in_minutes: options.wait ?? 10
      }
    })
    if (res.statusCode !== 200) throw new Error(`probe settings: ${res.statusCode} ${res.payload}`)
  }

  /** PUT /v1/users/{uid}/escalation; throws unless 200. */
  async escalation(
    user: ScenarioUser,
    settings: { mode?: 'all' | 'ordered'; step_minutes?: number; repeats?: number; voice_calls?: boolean }
  ): Promise<ApiResponse> {
    const res = await this.api({
      method: 'PUT',
      url: `/v1/users/${user.id}/escalation`,
      token: user.token,
      payload: settings
    })
    if (res.statusCode !== 200) throw new Error(`escalation settings: ${res.statusCode} ${res.payload}`)
    return res
  }

  /** GET /v1/users/{uid}/alarms: the user's alarms (newest first, as the API lists them). */
  async alarms(user: ScenarioUser): Promise<any[]> {
    const res = await this.api({ url: `/v1/users/${user.id}/alarms`, token: user.token })
    if (res.statusCode !== 200) throw new Error(`alarms of ${user.first_name}: ${res.statusCode} ${res.payload}`)
    return res.body.data
  }

  /** The status name of the user's latest probe. */
  async probeStatus(user: ScenarioUser): Promise<string | undefined> {
    const res = await this.api({ url: `/v1/users/${user.id}/probes`, token: user.token })
    return res.body?.data?.[0]?.status?.name
  }

  async checkInsActive(user: ScenarioUser): Promise<boolean> {
    const row = await this.kronus.knex('probe_settings').where({ user_id: user.id }).first()
    return Boolean(row?.active)
  }

  api(request: ApiRequest): Promise<ApiResponse> {
    return call(this.kronus, request)
  }

  /* Time */

  now(): number {
    return this.clock.now()
  }

  /** From now on, `minute` counts from this instant (the trigger of the scenario). */
  mark(): number {
    this.zero = this.clock.now()
    return this.zero
  }

  /** What a running server does on its own at this instant, until nothing is left to do. */
  async settle(): Promise<void> {
    // Each instance's watchdog checks on the minute, beside the queue.
    await this.kronus.watchdog.check()
    for (let pass = 0; pass < 50; pass++) {
      const fired = (await this.kronus.scheduler.tick()) + (await this.kronus.cronSchedules.tick())
      let ran = 0
      for (let run = 0; run < 1000; run++) {
        const count = await this.kronus.queue.runDue()
        if (count === 0) break
        ran += count
      }
      await this.kronus.events.settled()
      if (fired === 0 && ran === 0) return
    }
    throw new Error('work was still due after 50 passes at one instant')
  }

  /** Moves the clock `minutes` forward a minute at a time, letting everything due run after each. */
  async advance(minutes: number): Promise<void> {
    for (let i = 0; i < minutes; i++) {
      this.clock.advance(MINUTE)
      await this.settle()
    }
  }

  /** Moves the clock `minutes` forward in one go and runs what is due once: for spans where no timing is asserted. */
  async skip(minutes: number): Promise<void> {
    this.clock.advance(minutes * MINUTE)
    await this.settle()
  }

  /** Moves the clock to the check-in time (18:00 on the first day), runs what is due, and marks it. */
  async checkInTime(): Promise<void> {
    await this.settle()
    const target = Date.parse(CHECK_IN_AT)
    if (this.clock.now() > target) throw new Error('already past the check-in time')
    this.clock.set(target)
    await this.settle()
    this.mark()
  }

  /* What Twilio does to Kronus */

  /** A signed inbound text; returns the texts of Kronus's TwiML reply (also kept as `reply` entries). */
  async text(from: string | Person, body: string): Promise<string[]> {
    const phone = typeof from === 'string' ? from : from.phone
    const reply = await postSms(this.kronus, { from: phone, body })
    if (reply.statusCode !== 200) throw new Error(`inbound text "${body}": ${reply.statusCode} ${reply.payload}`)
    const at = this.clock.now()
    for (const message of reply.messages) {
      this.replies.push({
        kind: 'reply',
        to: phone,
        body: message,
        sid: null,
        at,
        minute: this.#minute(at),
        form: null
      })
    }
    return reply.messages
  }

  /** From this instant until `minutes` later (forever when omitted), Twilio's API refuses every text and call to `to`. */
  refuse(to: string | Person, reply: TwilioErrorReply, minutes?: number): void {
    const phone = typeof to === 'string' ? to : to.phone
    this.http.outages.push({
      to: phone,
      until: minutes === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + minutes * MINUTE,
      reply
    })
  }

  /** Every request the harness made Twilio refuse, oldest first. */
  refused(): Refused[] {
    return this.http.refused.map((r) => ({ ...r, minute: this.#minute(r.at) }))
  }

  /**
   * Twilio's status callback for a text (by its SM sid, or the latest text to a number),
   * signed and posted to the StatusCallback URL Kronus gave with that text. Returns the
   * HTTP status Kronus answered with.
   */
  async receipt(
    sidOrTo: string | Person,
    status: 'delivered' | 'undelivered' | 'failed' | 'sent',
    errorCode?: number
  ): Promise<number> {
    const text = this.#find('text', sidOrTo)
    const url = text.form?.get('StatusCallback')
    if (!url) throw new Error(`the text to ${text.to} carried no StatusCallback URL`)
    const form: Record<string, string> = {
      SmsSid: text.sid!,
      SmsStatus: status,
      MessageStatus: status,
      To: text.to,
      MessageSid: text.sid!,
      AccountSid: ACCOUNT_SID,
      MessagingServiceSid: SERVICE_SID,
      From: KRONUS_NUMBER,
      ApiVersion: '2010-04-01',
      ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) })
    }
    const res = await this.#postSigned(url, form)
    return res.statusCode
  }

  /**
   * A key pressed during a call (by its CA sid, or the latest call to a number): Twilio's
   * Gather posts the digits, signed, to the action of the call's TwiML. Returns what
   * Kronus answered (TwiML) and the words it says.
   */
  async press(sidOrTo: string | Person, digits: string): Promise<{ statusCode: number; said: string }> {
    const placed = this.#find('call', sidOrTo)
    const form = placed.form!
    const callFields: Record<string, string> = {
      AccountSid: ACCOUNT_SID,
      ApiVersion: '2010-04-01',
      CallSid: placed.sid ?? `CA${'0'.repeat(32)}`,
      CallStatus: 'in-progress',
      Direction: 'outbound-api',
      From: form.get('From') ?? KRONUS_NUMBER,
      To: placed.to,
      Called: placed.to,
      Caller: form.get('From') ?? KRONUS_NUMBER
    }
    let twiml = form.get('Twiml')
    const documentUrl = form.get('Url')
    if (!twiml) {
      if (!documentUrl) throw new Error(`the call to ${placed.to} carried neither Twiml nor Url`)
      const fetched = await this.#postSigned(documentUrl, callFields)
      if (fetched.statusCode !== 200) throw new Error(`the call's TwiML URL answered ${fetched.statusCode}`)
      twiml = fetched.payload
    }
    const action = gatherAction(twiml)
    if (action === null) throw new Error(`the call's TwiML has no <Gather>: ${twiml}`)
    // Without an action, Twilio posts the digits to the document's own URL.
    const target = action === '' ? documentUrl : new URL(action, documentUrl ?? PUBLIC_URL).href
    if (!target) throw new Error('the <Gather> has no action and the call no URL')
    const res = await this.#postSigned(target, { ...callFields, Digits: digits, FinishedOnKey: '' })
    return { statusCode: res.statusCode, said: spokenWords(res.payload) }
  }

  /** The words a call says: its TwiML's <Say>s, fetched from Kronus when the call gave a URL. */
  async spoken(placed: Sent): Promise<string> {
    const twiml = placed.form?.get('Twiml')
    if (twiml) return spokenWords(twiml)
    const url = placed.form?.get('Url')
    if (!url) return ''
    const res = await this.#postSigned(url, {
      AccountSid: ACCOUNT_SID,
      CallSid: placed.sid ?? `CA${'0'.repeat(32)}`,
      CallStatus: 'in-progress',
      Direction: 'outbound-api',
      From: placed.form?.get('From') ?? KRONUS_NUMBER,
      To: placed.to
    })
    return spokenWords(res.payload)
  }

  async #postSigned(url: string, form: Record<string, string>) {
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, form)
    const target = new URL(url)
    if (`${target.protocol}//${target.host}` !== new URL(PUBLIC_URL).origin) {
      throw new Error(`Kronus gave Twilio ${url}, not a URL under its publicUrl ${PUBLIC_URL}`)
    }
    return this.kronus.server.inject({
      method: 'POST',
      url: target.pathname + target.search,
      payload: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }
    })
  }

  #find(kind: 'text' | 'call', sidOrTo: string | Person): Sent {
    const key = typeof sidOrTo === 'string' ? sidOrTo : sidOrTo.phone
    const all = this.outbox().filter((s) => s.kind === kind)
    const found = all.find((s) => s.sid === key) ?? all.filter((s) => s.to === key).at(-1)
    if (!found) throw new Error(`no ${kind} to or with id ${key}`)
    return found
  }

  /* What Kronus did */

  #minute(at: number): number {
    return (at - this.zero) / MINUTE
  }

  /**
   * Every text and call Twilio's API accepted, oldest first: texts are the fake's
   * messages (paired in order with the POSTs it answered 201), calls the POSTs to
   * Calls.json it answered with success.
   */
  outbox(): Sent[] {
    const out: Sent[] = []
    const fakeCalls: any[] = (this.fake as any).calls ?? []
    let text = 0
    let placed = 0
    for (const req of this.fake.requests) {
      if (req.method !== 'POST' || req.status < 200 || req.status >= 300) continue
      if (/\/Messages\.json$/.test(req.path)) {
        const message = this.fake.messages[text++]
        if (!message) continue
        out.push({
          kind: 'text',
          to: message.to,
          body: message.body,
          sid: message.sid,
          at: req.receivedAt,
          minute: this.#minute(req.receivedAt),
          form: req.form
        })
      } else if (/\/Calls\.json$/.test(req.path)) {
        // The fake keeps each call as { resource, twiml, url, statusCallback }.
        const recorded = fakeCalls[placed++]
        const resource = recorded?.resource ?? recorded
        const twiml = req.form.get('Twiml')
        out.push({
          kind: 'call',
          to: req.form.get('To') ?? resource?.to ?? '',
          body: twiml ? spokenWords(twiml) : (req.form.get('Url') ?? ''),
          sid: resource?.sid ?? null,
          at: req.receivedAt,
          minute: this.#minute(req.receivedAt),
          form: req.form
        })
      }
    }
    return out
  }

  /** Texts Twilio accepted for one person, oldest first. */
  texts(to: string | Person): Sent[] {
    const phone = typeof to === 'string' ? to : to.phone
    return this.outbox().filter((s) => s.kind === 'text' && s.to === phone)
  }

  calls(to: string | Person): Sent[] {
    const phone = typeof to === 'string' ? to : to.phone
    return this.outbox().filter((s) => s.kind === 'call' && s.to === phone)
  }

  /** Everything one person got from Kronus: texts, calls and TwiML replies, in order of time. */
  heard(to: string | Person): Sent[] {
    const phone = typeof to === 'string' ? to : to.phone
    return [...this.outbox(), ...this.replies]
      .filter((s) => s.to === phone)
      .sort((a, b) => a.at - b.at || (a.kind === 'reply' ? -1 : 0) - (b.kind === 'reply' ? -1 : 0))
  }

  /** The bodies of what one person got, from `since` minutes on. */
  said(to: string | Person, since = Number.NEGATIVE_INFINITY): string[] {
    return this.heard(to)
      .filter((s) => s.minute >= since)
      .map((s) => s.body)
  }

  /** The alarm code a contact was given ("Reply OK 42 ..."), from the latest alert text to them. */
  codeFor(contact: string | Person): string {
    const bodies = this.texts(contact)
      .map((s) => s.body)
      .reverse()
    for (const body of bodies) {
      const match = /\bReply OK ([A-Za-z0-9]+)\b/.exec(body)
      if (match) return match[1]!
    }
    throw new Error(`no alert with a code reached ${typeof contact === 'string' ? contact : contact.phone}`)
  }

  /** The alarm rows of a user straight from the contract tables (status, trigger, quote...). */
  async alarmRows(user: ScenarioUser): Promise<any[]> {
    return this.kronus.knex('alarms').where({ user_id: user.id }).orderBy('id')
  }

  async alarmContactRows(alarmId: number): Promise<any[]> {
    return this.kronus.knex('alarm_contacts').where({ alarm_id: alarmId }).orderBy('position')
  }

  /** Jobs that ran out of attempts, by name. */
  async deadJobs(): Promise<string[]> {
    const rows = await this.kronus.knex('jobs').where({ status: 'dead' }).select('name')
    return rows.map((r: any) => r.name as string)
  }
}

export function startScenario(t: Tap, options: ScenarioOptions = {}): Promise<Scenario> {
  return Scenario.start(t, options)
}

/** The usual cast: Ada Lovelace, checked on daily at 18:00, with Mary then Charles as emergency contacts. */
export async function adaWithTwoContacts(
  t: Tap,
  options: ScenarioOptions & { retries?: number; wait?: number } = {}
): Promise<{ s: Scenario; ada: ScenarioUser; mary: ScenarioContact; charles: ScenarioContact }> {
  const s = await startScenario(t, options)
  const ada = await s.addUser('Ada', 'Lovelace')
  const mary = await s.addContact(ada, 'Mary', 'Somerville')
  const charles = await s.addContact(ada, 'Charles', 'Babbage')
  await s.checkIns(ada, { retries: options.retries, wait: options.wait })
  return { s, ada, mary, charles }
}
