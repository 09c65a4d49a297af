import t from 'tap'
import { definePlugin } from '../../src/plugins/define.js'
import type { PluginContext } from '../../src/plugins/types.js'
import { buildKronus } from '../helpers/app.js'
import { agreedBeforeTheTest } from '../helpers/http.js'

declare module 'kronus' {
  interface KronusEvents {
    'notes.added': { note: string }
  }
}
declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'notes.index': { note: string }
  }
}

const NOTES = 'ctx_notes'

/*
 * What a plugin reaches through its context: its own tables and Kronus's records through
 * the facades, and a transaction that holds its rows, events, jobs and facade writes together.
 * One Kronus serves the whole file.
 */
let kronus!: PluginContext
const notes = definePlugin({
  name: 'notes',
  version: '1.0.0',
  events: ['notes.added'],
  tables: [NOTES],
  register(context) {
    kronus = context
    context.jobs.define('notes.index', async () => undefined)
  }
})

const app = await buildKronus(t, { config: { plugins: [notes()] } })
await app.knex.schema.createTable(NOTES, (table) => {
  table.increments('id')
  table.string('note').notNullable()
})
const user = await app.services.users.create(
  {
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: 'ada@example.com',
    phone_number: '+15550000101',
    password: 'pw-long-secret'
  } as never,
  null
)
const second = await app.services.contacts.create(user.id, {
  first_name: 'Bo',
  last_name: 'B',
  phone_number: '+15550000103'
} as never)
const first = await app.services.contacts.create(user.id, {
  first_name: 'Cy',
  last_name: 'C',
  phone_number: '+15550000102'
} as never)
await app.services.contacts.update(user.id, first.id, { is_emergency_contact: true } as never)
app.clock.advance(1000)
await app.services.contacts.update(user.id, second.id, { is_emergency_contact: true } as never)
await agreedBeforeTheTest(app, first)
await agreedBeforeTheTest(app, second)

const noteRows = async () =>
  (await app.knex(NOTES).select('note').orderBy('id')).map((row: { note: string }) => row.note)
const jobsOf = async () =>
  (await app.knex('jobs').where({ name: 'notes.index' })).map(
    (row: { payload: string }) => JSON.parse(row.payload).note
  )
const eventsOf = async () => (await app.events.list({ type: 'notes.added' })).map((event) => event.payload.note)

t.test('db.table reaches the tables the plugin declared and refuses every other', async (t) => {
  await kronus.db.table(NOTES).insert({ note: 'plain' })
  t.same(await noteRows(), ['plain'])
  t.same(kronus.db.tables, [NOTES])
  t.throws(
    () => kronus.db.table('users'),
    /plugin "notes" may not use table "users": only the tables it declares in tables/
  )
  t.throws(() => kronus.db.table('jobs'), /may not use table "jobs"/)
  await app.knex(NOTES).delete()
})

t.test('a plugin transaction commits its rows, events, jobs and facade writes together', async (t) => {
  await kronus.db.transaction(async (trx) => {
    await kronus.db.table(NOTES, trx).insert({ note: 'kept' })
    await kronus.events.record(trx, 'notes.added', { note: 'kept' })
    await kronus.jobs.enqueue('notes.index', { note: 'kept' }, {}, trx)
    await kronus.probes.setActive(user.id, true, trx)
  })
  t.same(await noteRows(), ['kept'])
  t.same(await eventsOf(), ['kept'])
  t.same(await jobsOf(), ['kept'])
  t.equal(await kronus.probes.isActive(user.id), true)

  await t.rejects(
    kronus.db.transaction(async (trx) => {
      await kronus.db.table(NOTES, trx).insert({ note: 'lost' })
      await kronus.events.record(trx, 'notes.added', { note: 'lost' })
      await kronus.jobs.enqueue('notes.index', { note: 'lost' }, {}, trx)
      await kronus.probes.setActive(user.id, false, trx)
      throw new Error('the plugin gave up')
    }),
    /the plugin gave up/
  )
  t.same(await noteRows(), ['kept'], 'no row of the failed transaction')
  t.same(await eventsOf(), ['kept'], 'no event of it')
  t.same(await jobsOf(), ['kept'], 'no job of it')
  t.equal(await kronus.probes.isActive(user.id), true, 'and the probes are still on')
})

t.test('the facades show Kronus records as plain views', async (t) => {
  t.same(await kronus.users.find(user.id), {
    id: user.id,
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: 'ada@example.com',
    phone_number: '+15550000101'
  })
  t.equal(await kronus.users.find(999_999), null)
  const contacts = await kronus.contacts.emergencyContacts(user.id)
  t.same(
    contacts.map((contact) => contact.first_name),
    ['Cy', 'Bo'],
    'in the order they were marked'
  )
  t.same(contacts[0], {
    id: first.id,
    user_id: user.id,
    first_name: 'Cy',
    last_name: 'C',
    phone_number: '+15550000102',
    email: first.email,
    is_emergency_contact: true
  })
  t.equal(await kronus.probes.find(999_999), null)
})

t.test('turning probes off through the facade records the change like the API does', async (t) => {
  await kronus.probes.setActive(user.id, false)
  t.equal(await kronus.probes.isActive(user.id), false)
  const [change] = (await app.events.list({ type: 'probe_settings.updated', userId: user.id })).slice(-1)
  t.match(change?.payload, { userId: user.id, active: false })
  t.equal(await kronus.probes.isActive(999_999), false, 'a user without settings has no active probes')
})

t.test('a probe request through the facade follows the API rules', async (t) => {
  const { startsAt } = await kronus.probes.requestOnDemand(user.id, { inMinutes: 5, retries: 1, waitMinutes: 10 })
  t.equal(startsAt, app.clock.now() + 5 * 60_000)
  const loner = await app.services.users.create(
    {
      first_name: 'No',
      last_name: 'One',
      email: 'no@example.com',
      phone_number: '+15550000109',
      password: 'pw-long-secret'
    } as never,
    { userId: user.id, isAdmin: true }
  )
  await t.rejects(kronus.probes.requestOnDemand(loner.id, { inMinutes: 0, retries: 0, waitMinutes: 5 }), {
    name: 'ForbiddenError'
  })
})
