import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { WEBHOOK_EVENT_TYPES } from '../../plugins/outbound-webhook/event-schemas.js'
import { outboundWebhook } from '../../plugins/outbound-webhook/index.js'
import { onPostgres } from '../helpers/db.js'
import { startReceiver } from '../plugins/outbound-webhook/receiver.js'
import { adaWithTwoContacts, type Scenario } from './harness.js'

/*
 * What the duress word leaves behind (issue 15, point 3): the word itself is kept nowhere
 * (no table, no log line), and the reply is recorded as the Y it answers as.
 */

const WORD = 'Blue Heron'
const FOUND = /heron/i

/** A pino logger whose every line, at every level, is kept. */
function capturedLog(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    }
  })
  return { logger: pino({ level: 'trace' }, stream), lines }
}

/** Every table of the database, listed through knex. */
async function tables(s: Scenario): Promise<string[]> {
  const knex = s.kronus.knex
  if (onPostgres()) {
    const rows = await knex('information_schema.tables')
      .select('table_name')
      .whereRaw('table_schema = current_schema()')
      .where({ table_type: 'BASE TABLE' })
    return rows.map((r: { table_name: string }) => r.table_name)
  }
  const rows = await knex('sqlite_master').select('name').where({ type: 'table' })
  return rows.map((r: { name: string }) => r.name)
}

/** `table.column` of every cell, in every row of every table, that holds the word. */
async function cellsHolding(s: Scenario, pattern: RegExp): Promise<{ found: string[]; rows: number; names: string[] }> {
  const found: string[] = []
  let rows = 0
  const names = await tables(s)
  for (const table of names) {
    for (const row of await s.kronus.knex(table).select('*')) {
      rows++
      for (const [column, value] of Object.entries(row)) {
        const text = Buffer.isBuffer(value)
          ? value.toString('utf8')
          : typeof value === 'string'
            ? value
            : JSON.stringify(value)
        if (text !== undefined && pattern.test(text)) found.push(`${table}.${column}`)
      }
    }
  }
  return { found, rows, names }
}

t.test('a duress reply through the real inbound path leaves the word in no table and no log line', async (t) => {
  const { logger, lines } = capturedLog()
  const { s, ada, mary } = await adaWithTwoContacts(t, { logger })
  const set = await s.api({
    method: 'PUT',
    url: `/v1/users/${ada.id}/escalation`,
    token: ada.token,
    payload: { duress_word: WORD }
  })
  t.equal(set.statusCode, 200)
  await s.checkInTime()
  t.same(await s.text(ada, `${WORD}!`), ['Thanks Ada, glad you are OK.'])
  await s.settle()
  t.equal((await s.alarmRows(ada))[0]?.trigger, 'duress', 'the silent alarm was raised')
  t.match(s.texts(mary)[0]?.body, /used their duress word/)
  // With nothing waiting any more, the word again (its other path: the alarm is joined).
  await s.text(ada, WORD)
  await s.advance(15)

  const { found, rows, names } = await cellsHolding(s, FOUND)
  t.ok(
    names.includes('events') && names.includes('probes') && names.includes('inbound_messages'),
    'every table was read'
  )
  t.ok(rows > 50, `${rows} rows read`)
  t.same(found, [], 'no cell of any table holds the word')
  t.ok(
    lines.some((line) => line.includes('alarm raised')),
    `the log was captured (${lines.length} lines, the alarm's among them)`
  )
  t.same(
    lines.filter((line) => FOUND.test(line)),
    [],
    'no log line holds the word'
  )

  // What is kept instead is exactly what a Y leaves.
  const probe = await s.kronus.knex('probes').where({ user_id: ada.id }).first()
  t.equal(probe.last_response, 'Y', 'last_response is Y')
  const events = await s.kronus.events.list({ userId: ada.id, limit: 1000 })
  const received = events.filter((e) => e.type === 'message.received').map((e) => (e.payload as { text: string }).text)
  t.same(received, ['Y', 'Y'], 'each text received is recorded as Y')
  const reply = events.find((e) => e.type === 'probe.reply_received')
  t.same(reply?.payload, { userId: ada.id, probeId: probe.id, text: 'Y', understood: true })
  const changed = events.find((e) => e.type === 'probe.status_changed')
  t.match(changed?.payload, { from: 'pending', to: 'good', reason: 'replied "Y"' })
  const flip = await s.kronus.knex('probe_status_changes').where({ probe_id: probe.id })
  t.ok(flip.length > 0, 'the flip row is kept')
})

t.test('an ordinary reply is still kept as sent', async (t) => {
  const { s, ada } = await adaWithTwoContacts(t)
  await s.api({
    method: 'PUT',
    url: `/v1/users/${ada.id}/escalation`,
    token: ada.token,
    payload: { duress_word: WORD }
  })
  await s.checkInTime()
  await s.text(ada, 'grey heron')
  const probe = await s.kronus.knex('probes').where({ user_id: ada.id }).first()
  t.equal(probe.last_response, 'grey heron')
  const [received] = await s.kronus.events.list({ userId: ada.id, type: 'message.received' })
  t.equal(received?.payload.text, 'grey heron')
})

/** Every event the API shows this caller (all pages), with these query parameters. */
async function eventsSeenBy(s: Scenario, token: string, query = ''): Promise<any[]> {
  const all: any[] = []
  for (let page = 1; ; page++) {
    const res = await s.api({ url: `/v1/events?page=${page}${query}`, token })
    if (res.statusCode !== 200) throw new Error(`events: ${res.statusCode} ${res.payload}`)
    all.push(...res.body.data)
    if (page >= res.body.paging.pages) return all
  }
}

const OPS_SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`

t.test(
  "a duress alarm leaves no trace in the user's events, webhook or probes; admins and configured webhooks see it",
  async (t) => {
    const receiver = await startReceiver(t)
    const { s, ada, mary, charles } = await adaWithTwoContacts(t, {
      plugins: [
        outboundWebhook({
          allowPrivateNetworks: true,
          endpoints: [{ url: `${receiver.origin}/ops`, secret: OPS_SECRET, events: WEBHOOK_EVENT_TYPES }]
        })
      ]
    })
    const hook = await s.api({
      method: 'POST',
      url: `/v1/users/${ada.id}/webhooks`,
      token: ada.token,
      payload: { url: `${receiver.origin}/ada`, events: WEBHOOK_EVENT_TYPES }
    })
    t.equal(hook.statusCode, 201, "Ada's own webhook, for every event")
    await s.api({
      method: 'PUT',
      url: `/v1/users/${ada.id}/escalation`,
      token: ada.token,
      payload: { duress_word: WORD }
    })
    await s.checkInTime()
    t.same(await s.text(ada, WORD), ['Thanks Ada, glad you are OK.'])
    await s.settle()
    // The alarm goes on: receipts of its alerts, a reminder, an acknowledgement, the all-clear.
    await s.receipt(mary, 'delivered')
    await s.receipt(charles, 'undelivered', 30003)
    await s.advance(11)
    const code = s.codeFor(mary)
    await s.text(mary, `OK ${code}`)
    await s.text(mary, `SAFE ${code}`)
    await s.advance(2)
    const [alarm] = await s.alarmRows(ada)
    t.equal(alarm?.status, 'resolved')

    const contactPhones = new Set([mary.phone, charles.phone])
    const aboutTheAlarm = (e: { type: string; payload: any }) =>
      e.type.startsWith('alarm.') ||
      e.type.startsWith('emergency') ||
      contactPhones.has(e.payload.to) ||
      contactPhones.has(e.payload.from) ||
      /duress/i.test(JSON.stringify(e.payload))

    // Ada's own event log: what a Y leaves, and nothing of the alarm.
    const own = await eventsSeenBy(s, ada.token)
    t.same(own.filter(aboutTheAlarm), [], "nothing about the alarm in Ada's /v1/events")
    const ownTypes = new Set(own.map((e) => e.type))
    for (const type of [
      'probe.started',
      'message.sent',
      'message.received',
      'probe.reply_received',
      'probe.status_changed'
    ])
      t.ok(ownTypes.has(type), `Ada sees ${type}, as after any OK`)
    t.match(own.find((e) => e.type === 'probe.status_changed')?.payload, {
      from: 'pending',
      to: 'good',
      reason: 'replied "Y"'
    })
    t.same(
      own.filter((e) => e.type === 'message.sent').map((e) => e.payload.to),
      [ada.phone],
      'the only text Ada sees sent is her check-in'
    )

    // The admin sees the whole alarm.
    const byAdmin = await eventsSeenBy(s, s.admin.token, `&user_id=${ada.id}`)
    const adminTypes = byAdmin.map((e) => e.type)
    for (const type of ['alarm.raised', 'alarm.escalated', 'alarm.acknowledged', 'alarm.resolved'])
      t.ok(adminTypes.includes(type), `the admin sees ${type}`)
    t.equal(byAdmin.find((e) => e.type === 'alarm.raised')?.payload.trigger, 'duress')
    t.ok(
      byAdmin.some((e) => e.type === 'message.sent' && e.payload.to === mary.phone),
      'and the alert to Mary'
    )
    t.ok(
      byAdmin.some((e) => e.type === 'message.delivered' && e.payload.to === mary.phone),
      'and its receipt'
    )
    t.ok(byAdmin.length > own.length, 'the admin sees more of Ada than Ada does')

    // Webhooks: Ada's own endpoint got what Ada sees, the configured one everything.
    const bodies = (path: string) =>
      receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as { type: string; data: any })
    const toAda = bodies('/ada')
    t.ok(toAda.length > 0, "Ada's webhook got her ordinary events")
    t.same(
      toAda.filter((e) => aboutTheAlarm({ type: e.type, payload: e.data })),
      [],
      "nothing about the alarm reached Ada's webhook"
    )
    t.ok(
      toAda.some((e) => e.type === 'probe.status_changed'),
      "her check-in's OK did"
    )
    const toOps = bodies('/ops')
    t.ok(
      toOps.some((e) => e.type === 'alarm.raised' && e.data.trigger === 'duress'),
      'the configured webhook got the alarm'
    )
    t.ok(
      toOps.some((e) => e.type === 'message.delivered' && e.data.to === mary.phone),
      'and the receipt of the alert to Mary'
    )

    // Her probes read as a plain OK; the admin sees whom the alarm alerted.
    const probes = await s.api({ url: `/v1/users/${ada.id}/probes`, token: ada.token })
    t.equal(probes.body.data[0].status.name, 'good')
    t.same(probes.body.data[0].alerted_contacts, [], 'Ada sees no contact alerted for her check-in')
    t.equal(probes.body.data[0].emergency_probe, null, 'nor an emergency probe')
    t.equal(probes.body.data[0].last_response, 'Y')
    const probesByAdmin = await s.api({ url: `/v1/users/${ada.id}/probes`, token: s.admin.token })
    t.same(
      probesByAdmin.body.data[0].alerted_contacts.map((c: any) => c.name),
      ['Mary Somerville', 'Charles Babbage'],
      'the admin sees whom the alarm alerted'
    )
  }
)
