import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { onPostgres } from '../helpers/db.js'
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
