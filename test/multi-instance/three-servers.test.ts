import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import twilio from 'twilio'
import { alarmTexts } from '../../src/alarms/texts.js'
import { createKnex } from '../../src/db/knex.js'
import { probeTexts } from '../../src/probes/messages.js'
import { leaseSchema, schemaUrl, testDatabaseUrl, uniqueSchemaName } from '../helpers/db.js'
import { testPrivateKeyPem } from '../helpers/keys.js'
import { insertPopulation, minuteOf, type PopulationUser } from './population.js'
import { HUNG_TABLE, SENT_TABLE } from './recording-plugin.js'
import { type ServerProcess, startServer, writeServerConfig } from './servers.js'

/*
 * Three `kronus server` processes on one PostgreSQL schema. Several hundred users are due
 * at once; their replies reach random instances through the Twilio webhook; instance c
 * is killed with SIGKILL midway, with texts in flight. Afterwards every user was asked
 * exactly once, every "no" reached each emergency contact exactly once, and the jobs c
 * held were finished by the others once their locks lapsed.
 *
 * Deterministic in outcome, not in timing: every wait polls the database against a
 * generous deadline. Instance c's recording channel stops answering after 20 texts; of the
 * texts it then holds, every other one the "provider" has accepted (the case a crash used
 * to send twice: 16 of 200 check-ins before texts were reconciled) and the others it never
 * got. c is killed when it holds both kinds and nothing else half done; the survivors must
 * reconcile each: an accepted one recorded and not sent again, the others sent once.
 */

const USERS = 300
const AUTH_TOKEN = 'multi-instance-auth-token'
const PUBLIC_URL = 'https://kronus.example'
const TWILIO = { accountSid: 'AC' + '7'.repeat(32), authToken: AUTH_TOKEN, messagingServiceSid: 'MG' + '7'.repeat(32) }
// Short polls and locks keep the test quick: a job of the killed process runs elsewhere 13 s after it was claimed
// (5 s after its run ended, time for a text in flight on a loaded machine to land before another reconciles it).
const JOBS = {
  concurrency: 4,
  pollIntervalMs: 100,
  schedulerIntervalMs: 200,
  shutdownTimeoutMs: 2000,
  defaultTimeoutMs: 8000,
  lockMarginMs: 5000
}
const C_HANGS_AFTER = 20
const REPLIES_TO_C_BEFORE_KILL = 10
// A hang guard, not a budget: a loaded machine must not fail the test, only a hang (below tap's 600 s per file).
const DEADLINE_MS = 480_000

type Reply = 'N' | 'Y' | 'maybe' | null
const replyOf = (i: number): Reply => (['N', 'Y', 'maybe', null] as const)[i % 4]!

const startedAt = Date.now()
function remaining(): number {
  return DEADLINE_MS - (Date.now() - startedAt)
}

async function until<T>(what: string, check: () => Promise<T | false>, everyMs = 200): Promise<T> {
  for (;;) {
    const value = await check()
    if (value !== false) return value
    if (remaining() <= 0) throw new Error(`gave up waiting: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

function twimlMessages(body: string): string[] {
  return [...body.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((m) =>
    m[1]!
      .replace(/&apos;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
  )
}

t.test(
  'three server processes on one schema, one killed with SIGKILL midway: one probe per fire, each text once, one alert per contact, no job left behind',
  async (t) => {
    const schema = uniqueSchemaName('kt_multi')
    t.teardown(await leaseSchema(schema))
    const knex = createKnex({ client: 'postgres', connection: testDatabaseUrl(), searchPath: schema })
    t.teardown(() => knex.destroy())
    await knex.schema.createTable(SENT_TABLE, (table) => {
      table.bigIncrements('id')
      table.string('instance', 8).notNullable()
      table.string('to_number', 20).notNullable()
      table.text('body').notNullable()
      table.string('message_id', 32).notNullable()
      table.bigInteger('sent_at').notNullable()
    })
    await knex.schema.createTable(HUNG_TABLE, (table) => {
      table.bigIncrements('id')
      table.string('instance', 8).notNullable()
      table.string('to_number', 20).notNullable()
      table.text('body').notNullable()
      table.boolean('accepted').notNullable()
    })
    const dir = mkdtempSync(join(tmpdir(), 'kronus-multi-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))

    const servers = new Map<string, ServerProcess>()
    for (const instance of ['a', 'b', 'c']) {
      const file = writeServerConfig(dir, {
        instance,
        connection: schemaUrl(schema),
        privateKeyPem: testPrivateKeyPem(),
        publicUrl: PUBLIC_URL,
        twilio: TWILIO,
        jobs: JOBS,
        hangAfterSends: instance === 'c' ? C_HANGS_AFTER : null
      })
      servers.set(instance, startServer(instance, file, dir))
    }
    t.teardown(() => {
      for (const server of servers.values())
        if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL')
    })
    const uris = new Map<string, string>()
    for (const [instance, server] of servers) uris.set(instance, await server.uri)
    for (const [instance, uri] of uris) t.equal((await fetch(`${uri}/health`)).status, 200, `${instance} is healthy`)

    const now = Date.now()
    const fireAt = minuteOf(now)
    const users = await insertPopulation(knex, { users: USERS, emergencyContactsPerUser: 2, fireAt, now })
    const byPhone = new Map(users.map((u) => [u.phone, u]))

    // --- Replies, through the webhook of a random live instance. c dies midway. ---
    const alive = new Set(uris.keys())
    let cKilled = false
    const answeredBy = new Map<number, { instance: string; messages: string[] }>()
    let sequence = 0

    async function reply(user: PopulationUser, body: string): Promise<void> {
      const messageSid = `SM${(++sequence).toString(16).padStart(32, '0')}`
      const form = {
        From: user.phone,
        To: '+15550009999',
        Body: body,
        MessageSid: messageSid,
        AccountSid: TWILIO.accountSid
      }
      const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/webhook/sms`, form)
      for (;;) {
        const choices = [...alive]
        const instance = choices[Math.floor(Math.random() * choices.length)]!
        let res: Response
        try {
          res = await fetch(`${uris.get(instance)}/webhook/sms`, {
            method: 'POST',
            body: new URLSearchParams(form).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
            signal: AbortSignal.timeout(120_000)
          })
        } catch (err) {
          // Only the killed instance may drop a request; Twilio's retry (same MessageSid) reaches another.
          if (instance === 'c' && cKilled) continue
          throw err
        }
        t.equal(res.status, 200, `webhook at ${instance} answered ${user.phone}`)
        answeredBy.set(user.id, { instance, messages: twimlMessages(await res.text()) })
        return
      }
    }

    /**
     * True when c holds texts its channel will never answer, of both kinds (accepted by the
     * "provider" or not), and nothing of c is half done: every job it holds is a text that
     * is either hung in its channel or not yet handed to it (texts are claimed in batches;
     * those waiting their turn are not sent, and a text that went out is recorded, and its
     * job ended, as soon as it is sent).
     */
    async function cHoldsOnlyHungSends(): Promise<boolean> {
      const pid = servers.get('c')!.child.pid!
      const text = (table: string) =>
        `SELECT 1 FROM ${table} x WHERE x.instance = 'c' AND x.to_number = (j.payload::json ->> 'to') AND x.body = (j.payload::json ->> 'text')`
      const { rows } = await knex.raw(
        `SELECT count(*) FILTER (WHERE j.name = 'message.send' AND EXISTS (${text(HUNG_TABLE)} AND x.accepted)) AS accepted,
              count(*) FILTER (WHERE j.name = 'message.send' AND EXISTS (${text(HUNG_TABLE)} AND NOT x.accepted)) AS hung,
              count(*) FILTER (WHERE NOT (j.name = 'message.send' AND (EXISTS (${text(HUNG_TABLE)}) OR NOT EXISTS (${text(SENT_TABLE)})))) AS busy
         FROM jobs j WHERE j.status = 'in-progress' AND j.locked_by LIKE ?`,
        [`%:${pid}:%`]
      )
      return Number(rows[0].accepted) > 0 && Number(rows[0].hung) > 0 && Number(rows[0].busy) === 0
    }

    async function killCWhenReady(): Promise<boolean> {
      if (cKilled) return true
      const toC = [...answeredBy.values()].filter((a) => a.instance === 'c').length
      if (toC < REPLIES_TO_C_BEFORE_KILL || !(await cHoldsOnlyHungSends())) return false
      cKilled = true
      alive.delete('c')
      servers.get('c')!.child.kill('SIGKILL')
      t.comment(`killed c after ${Date.now() - startedAt} ms, with ${answeredBy.size} replies answered`)
      return true
    }

    const repliers = users.filter((_, i) => replyOf(i) !== null)
    const replyAt = new Map(users.map((u, i) => [u.id, replyOf(i)]))
    const beforeKill = repliers.slice(0, Math.floor((repliers.length * 2) / 3))
    const afterKill = repliers.slice(beforeKill.length)

    async function replyWhenAsked(group: PopulationUser[], watchForKill: boolean): Promise<void> {
      const waiting = new Set(group.map((u) => u.id))
      await until(`replies to ${group.length} users`, async () => {
        const asked = await knex(SENT_TABLE).where('body', 'like', 'Are you OK %').select('to_number')
        const ready = asked.map((r) => byPhone.get(r.to_number)!).filter((u) => u && waiting.has(u.id))
        for (let i = 0; i < ready.length; i += 8) {
          const batch = ready.slice(i, i + 8).map((u) => {
            waiting.delete(u.id)
            return reply(u, replyAt.get(u.id)!)
          })
          // Checked while the batch is in flight, so c may die with replies half handled.
          await Promise.all([...batch, watchForKill ? killCWhenReady() : undefined])
        }
        return waiting.size === 0
      })
    }

    await replyWhenAsked(beforeKill, true)
    await until('c holds only unanswered texts, then is killed', killCWhenReady)
    const cExit = await servers.get('c')!.exited
    t.equal(cExit.signal, 'SIGKILL', 'c died by SIGKILL')
    await replyWhenAsked(afterKill, false)

    // --- Settle: the survivors take over c's jobs once their locks lapse, and finish everything due. ---
    const badUsers = users.filter((u) => replyAt.get(u.id) === 'N')
    await until(
      'every alert sent and no job running or due',
      async () => {
        const stillDue = await knex('jobs')
          .where((q) =>
            q
              .whereIn('status', ['in-progress', 'enqueued'])
              .orWhere((s) => s.where('status', 'scheduled').where('run_at', '<=', Date.now() + 60_000))
          )
          .count({ n: '*' })
        if (Number(stillDue[0]!.n) > 0) return false
        const reported = await knex(SENT_TABLE).where('body', 'like', 'Your alert was sent to%').count({ n: '*' })
        return Number(reported[0]!.n) >= badUsers.length
      },
      500
    )
    t.comment(`settled after ${Date.now() - startedAt} ms`)

    for (const instance of ['a', 'b']) servers.get(instance)!.child.kill('SIGTERM')
    for (const instance of ['a', 'b']) {
      const exit = await servers.get(instance)!.exited
      t.equal(exit.code, 0, `${instance} stopped cleanly`)
    }

    // --- What every user and contact got. ---
    const sent: Array<{ instance: string; to_number: string; body: string }> = await knex(SENT_TABLE).select(
      'instance',
      'to_number',
      'body'
    )
    const textsTo = new Map<string, string[]>()
    for (const text of sent) textsTo.set(text.to_number, [...(textsTo.get(text.to_number) ?? []), text.body])
    const probes: Array<{ user_id: number; start_key: string; probe_status_id: number }> = await knex('probes').select(
      'user_id',
      'start_key',
      'probe_status_id'
    )
    const probesOf = new Map<number, typeof probes>()
    for (const probe of probes) probesOf.set(probe.user_id, [...(probesOf.get(probe.user_id) ?? []), probe])

    const problems: string[] = []
    for (const user of users) {
      const reply = replyAt.get(user.id)!
      const own = probesOf.get(user.id) ?? []
      if (own.length !== 1 || own[0]!.start_key !== `fire:${user.id}:${fireAt}`)
        problems.push(`${user.phone}: ${own.length} probes`)
      const expectedStatus = reply === 'N' ? 3 : reply === 'Y' ? 2 : 1
      if (own[0]?.probe_status_id !== expectedStatus)
        problems.push(`${user.phone}: status ${own[0]?.probe_status_id}, expected ${expectedStatus}`)
      const texts = textsTo.get(user.phone) ?? []
      const asks = texts.filter((text) => text === probeTexts.ask(user.firstName)).length
      if (asks !== 1) problems.push(`${user.phone}: asked ${asks} times`)
      if (reply !== null) {
        const answered = answeredBy.get(user.id)
        const expectedAnswer =
          reply === 'N'
            ? probeTexts.bad()
            : reply === 'Y'
              ? probeTexts.good(user.firstName)
              : probeTexts.notUnderstood()
        if (answered?.messages[0] !== expectedAnswer)
          problems.push(`${user.phone}: answered ${JSON.stringify(answered?.messages)}`)
      }
      const contactNames = user.contacts.map((c) => `${c.firstName} Many`)
      for (const contact of user.contacts) {
        const alerts = textsTo.get(contact.phone) ?? []
        const expected = reply === 'N' ? 1 : 0
        if (alerts.length !== expected)
          problems.push(`${contact.phone} (contact of ${user.phone}): ${alerts.length} texts, expected ${expected}`)
        if (reply === 'N' && !/answered that they are NOT OK/.test(alerts[0] ?? ''))
          problems.push(`${contact.phone}: unexpected alert ${alerts[0]}`)
      }
      if (reply === 'N') {
        const reached = texts.filter((text) => text === alarmTexts.reportToUser([], contactNames, [])).length
        if (reached !== 1) problems.push(`${user.phone}: told ${reached} times whom Kronus reached`)
      }
      const others = texts.length - asks - (reply === 'N' ? 1 : 0)
      if (others !== 0) problems.push(`${user.phone}: ${others} unexpected texts`)
    }
    t.same(problems, [], 'every user asked once, every "no" alerted each contact once and was told once')

    const hung: Array<{ to_number: string; body: string; accepted: boolean }> = await knex(HUNG_TABLE)
      .where({ instance: 'c' })
      .select('to_number', 'body', 'accepted')
    const acceptedHung = hung.filter((text) => text.accepted).length
    t.ok(
      acceptedHung > 0 && hung.length > acceptedHung,
      `c died with texts in flight: ${acceptedHung} the provider had accepted, ${hung.length - acceptedHung} it never got`
    )
    // A text whose run hung past its timeout before c died was retried, possibly by c itself, whose channel
    // hung again: one text can be held by c more than once. Each text counts once, by what became of it.
    const hungTexts = new Map<string, { to_number: string; body: string; accepted: boolean }>()
    for (const text of hung) {
      const key = `${text.to_number}\n${text.body}`
      const seen = hungTexts.get(key)
      hungTexts.set(key, { ...text, accepted: text.accepted || (seen?.accepted ?? false) })
    }
    for (const text of hungTexts.values()) {
      const deliveries = sent
        .filter((s) => s.to_number === text.to_number && s.body === text.body)
        .map((d) => d.instance)
      if (text.accepted)
        t.same(
          deliveries,
          ['c'],
          `the text to ${text.to_number} that c sent just before dying was reconciled, not sent again`
        )
      else
        t.same(
          deliveries.map((i) => i === 'a' || i === 'b'),
          [true],
          `the text to ${text.to_number} that c never sent went out once, from a survivor`
        )
    }
    const perInstance = Object.fromEntries(['a', 'b', 'c'].map((i) => [i, sent.filter((s) => s.instance === i).length]))
    t.ok(
      perInstance.a! > 0 && perInstance.b! > 0 && perInstance.c === C_HANGS_AFTER + acceptedHung,
      `every instance sent texts (${JSON.stringify(perInstance)})`
    )
    const replyCounts = Object.fromEntries(
      ['a', 'b', 'c'].map((i) => [i, [...answeredBy.values()].filter((a) => a.instance === i).length])
    )
    t.ok(
      replyCounts.a! > 0 && replyCounts.b! > 0 && replyCounts.c! >= REPLIES_TO_C_BEFORE_KILL,
      `replies reached every instance (${JSON.stringify(replyCounts)})`
    )

    const leftovers = await knex('jobs')
      .whereIn('status', ['in-progress', 'enqueued', 'dead'])
      .select('id', 'name', 'status', 'last_error')
    t.same(leftovers, [], 'no job stuck in progress, waiting or dead')
    const takenOver = await knex('jobs').where('attempts', '>', 1).count({ n: '*' })
    t.ok(Number(takenOver[0]!.n) >= hungTexts.size, 'the jobs c held ran again')
  }
)
