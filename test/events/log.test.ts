import pino from 'pino'
import t from 'tap'
import { EventLog } from '../../src/events/log.js'
import type { RecordedEvent } from '../../src/events/types.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { queueFor } from '../queue/helpers.js'

/** Runs due jobs, moving the fake clock past every retry delay, until nothing is left to run. */
async function runAllJobs(kronus: TestKronus): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await kronus.queue.drain()
    const live = await kronus.knex('jobs').whereIn('status', ['scheduled', 'enqueued', 'in-progress']).count({ n: '*' })
    if (Number(live[0]!.n) === 0) return
    kronus.clock.advanceMinutes(10)
  }
  throw new Error('jobs still live after 20 rounds')
}

/** 150 user.updated events (users 1 to 150), then one user.deleted (user 500). */
async function backlogThenOneMore(kronus: TestKronus, log: EventLog): Promise<void> {
  await kronus.knex.transaction((trx) =>
    log.recordMany(
      trx,
      'user.updated',
      Array.from({ length: 150 }, (_, i) => ({ userId: i + 1, fields: ['name'] }))
    )
  )
  await kronus.knex.transaction((trx) => log.record(trx, 'user.deleted', { userId: 500 }))
}

t.test("an event is written in the caller's transaction and heard only after it commits", async (t) => {
  const kronus = await buildKronus(t)
  const heard: Array<{ userId: number; fields: string[] }> = []
  kronus.events.on('user.updated', (payload) => {
    heard.push(payload)
  })

  await kronus.knex.transaction(async (trx) => {
    await kronus.events.record(trx, 'user.updated', { userId: 7, fields: ['email'] })
    // Give any premature emission every chance to run before the commit.
    await new Promise((resolve) => setImmediate(resolve))
    t.same(heard, [], 'nobody hears of a change that has not committed')
    t.equal((await trx('events').where({ type: 'user.updated' })).length, 1, 'the row is in the transaction')
  })
  await kronus.events.settled()
  t.same(heard, [{ userId: 7, fields: ['email'] }])

  const [event] = await kronus.events.list({ type: 'user.updated' })
  t.match(event, {
    type: 'user.updated',
    userId: 7,
    payload: { userId: 7, fields: ['email'] },
    createdAt: kronus.clock.now()
  })
})

t.test('a rolled-back change leaves no event, no listener call and no delivery', async (t) => {
  const kronus = await buildKronus(t)
  const heard: unknown[] = []
  kronus.events.on('user.deleted', (payload) => {
    heard.push(payload)
  })
  const delivered: unknown[] = []
  kronus.events.subscribe('rollback-test', 'user.deleted', async (event) => {
    delivered.push(event)
  })

  await t.rejects(
    kronus.knex.transaction(async (trx) => {
      await kronus.events.record(trx, 'user.deleted', { userId: 3 })
      throw new Error('the change fails after its event was recorded')
    }),
    /the change fails/
  )
  await kronus.events.settled()
  await runAllJobs(kronus)
  t.same(heard, [])
  t.same(delivered, [])
  t.same(await kronus.events.list(), [])
  t.equal((await kronus.knex('jobs')).length, 0, 'no delivery job survived the rollback')
})

t.test("a nested transaction's event waits for the outer commit", async (t) => {
  const kronus = await buildKronus(t)
  const heard: number[] = []
  kronus.events.on('user.created', (payload) => {
    heard.push(payload.userId)
  })
  await t.rejects(
    kronus.knex.transaction(async (outer) => {
      await outer.transaction(async (inner) => {
        await kronus.events.record(inner, 'user.created', { userId: 1, isAdmin: false })
      })
      await new Promise((resolve) => setImmediate(resolve))
      t.same(heard, [], 'the savepoint was released but nothing is committed yet')
      throw new Error('outer rollback')
    })
  )
  await kronus.events.settled()
  t.same(heard, [], 'the outer rollback undid the event')
})

t.test('a listener that throws does not stop the others or the change', async (t) => {
  const kronus = await buildKronus(t)
  const heard: string[] = []
  kronus.events.on('server.started', () => {
    throw new Error('broken listener')
  })
  kronus.events.on('server.started', (payload) => {
    heard.push(payload.uri)
  })
  await kronus.events.emit('server.started', { uri: 'http://127.0.0.1:1' })
  await kronus.events.settled()
  t.same(heard, ['http://127.0.0.1:1'])
  t.equal((await kronus.events.list({ type: 'server.started' })).length, 1)
})

t.test(
  'a listener whose promise rejects harms nobody; the others are awaited, event after event in order',
  async (t) => {
    const kronus = await buildKronus(t)
    const heard: string[] = []
    kronus.events.on('user.deleted', async () => {
      throw new Error('broken async listener')
    })
    kronus.events.on('user.deleted', async (payload) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      heard.push(`slow ${payload.userId}`)
    })
    kronus.events.on('user.deleted', (payload) => {
      heard.push(`sync ${payload.userId}`)
    })
    await kronus.knex.transaction((trx) =>
      kronus.events.recordMany(trx, 'user.deleted', [{ userId: 1 }, { userId: 2 }])
    )
    await kronus.events.settled()
    // Each event's listeners run together, and the next event waits for them.
    t.same(heard, ['sync 1', 'slow 1', 'sync 2', 'slow 2'])
  }
)

t.test('a listener added or removed while an event is heard takes effect from the next event', async (t) => {
  const kronus = await buildKronus(t)
  const heard: string[] = []
  let offSecond: () => void = () => undefined
  kronus.events.on('user.deleted', (payload) => {
    heard.push(`first ${payload.userId}`)
    offSecond()
    kronus.events.on('user.deleted', (p) => {
      heard.push(`added by ${payload.userId}, heard ${p.userId}`)
    })
  })
  offSecond = kronus.events.on('user.deleted', (payload) => {
    heard.push(`second ${payload.userId}`)
  })
  await kronus.knex.transaction((trx) => kronus.events.recordMany(trx, 'user.deleted', [{ userId: 1 }, { userId: 2 }]))
  await kronus.events.settled()
  t.same(heard, ['first 1', 'first 2', 'added by 1, heard 2'])
})

t.test('an unsubscribed listener hears nothing more', async (t) => {
  const kronus = await buildKronus(t)
  let calls = 0
  const off = kronus.events.on('user.deleted', () => {
    calls += 1
  })
  await kronus.events.emit('user.deleted', { userId: 1 })
  await kronus.events.settled()
  off()
  await kronus.events.emit('user.deleted', { userId: 2 })
  await kronus.events.settled()
  t.equal(calls, 1)
})

t.test('a durable subscriber that throws on the first try still receives every event, in order per user', async (t) => {
  const kronus = await buildKronus(t)
  const tried = new Set<number>()
  const received: RecordedEvent<'user.updated'>[] = []
  kronus.events.subscribe('flaky', 'user.updated', async (event) => {
    if (!tried.has(event.id)) {
      tried.add(event.id)
      throw new Error(`first try of event ${event.id} fails`)
    }
    received.push(event)
  })

  for (const [userId, field] of [
    [1, 'a'],
    [2, 'a'],
    [1, 'b'],
    [1, 'c'],
    [2, 'b']
  ] as const) {
    await kronus.events.emit('user.updated', { userId, fields: [field] })
  }
  await runAllJobs(kronus)

  const forUser = (userId: number) => received.filter((e) => e.userId === userId).map((e) => e.payload.fields[0])
  t.same(forUser(1), ['a', 'b', 'c'], 'user 1: every event once, in order')
  t.same(forUser(2), ['a', 'b'], 'user 2: every event once, in order')
  t.equal(tried.size, 5, 'each event failed once before it went through')
  t.same(
    (await kronus.knex('jobs').where({ name: 'events.deliver' })).map((j) => j.status),
    Array(5).fill('successful')
  )
})

t.test("one user's failing event holds back only that user's later events", async (t) => {
  const kronus = await buildKronus(t)
  const received: string[] = []
  let failUser1 = true
  kronus.events.subscribe('picky', 'user.updated', async (event) => {
    if (event.payload.fields[0] === 'first' && failUser1) throw new Error("user 1's first event cannot go through yet")
    received.push(`${event.userId}:${event.payload.fields[0]}`)
  })
  await kronus.events.emit('user.updated', { userId: 1, fields: ['first'] })
  await kronus.events.emit('user.updated', { userId: 1, fields: ['second'] })
  await kronus.events.emit('user.updated', { userId: 2, fields: ['only'] })

  await kronus.queue.drain()
  t.same(received, ['2:only'], "user 2 went through; user 1's second event waits behind the first")

  failUser1 = false
  await runAllJobs(kronus)
  t.same(received, ['2:only', '1:first', '1:second'])
})

t.test('a subscriber that keeps failing gives up after its attempts and lets later events through', async (t) => {
  const kronus = await buildKronus(t)
  const received: number[] = []
  kronus.events.subscribe(
    'stubborn',
    'user.deleted',
    async (event) => {
      if (event.payload.userId === 1) throw new Error('cannot handle user 1')
      received.push(event.payload.userId)
    },
    { maxAttempts: 2 }
  )
  const dead: number[] = []
  kronus.events.on('job.dead', (payload) => {
    dead.push(payload.attempts)
  })
  await kronus.events.emit('user.deleted', { userId: 1 })
  await kronus.events.emit('user.deleted', { userId: 2 })
  await kronus.events.emit('user.deleted', { userId: 1 })
  await runAllJobs(kronus)
  await kronus.events.settled()
  t.same(received, [2], "user 1's events failed for good; user 2's went through")
  t.same(dead, [2, 2], 'each delivery died after its 2 attempts and was reported as job.dead')
})

t.test('a change whose process dies before delivery is still delivered by the next process', async (t) => {
  const first = await buildKronus(t)
  first.events.subscribe('audit', ['user.created', 'contact.created'], async () => {
    throw new Error('the first process never gets to deliver')
  })
  const user = await first.services.users.create(
    {
      first_name: 'Ada',
      last_name: 'L',
      email: 'ada@example.com',
      phone_number: '+15550000001',
      password: 'pw-long-secret'
    },
    null
  )
  await first.services.contacts.create(user.id, {
    first_name: 'Bob',
    last_name: 'B',
    phone_number: '+15550000002',
    is_emergency_contact: true
  })
  // The process "dies" here: its queue never ran. A new one opens the same database.
  await first.stop()

  const second = await buildKronus(t, { dir: first.dir, clock: first.clock })
  const received: string[] = []
  second.events.subscribe('audit', ['user.created', 'contact.created'], async (event) => {
    received.push(`${event.type}:${event.userId}`)
  })
  await second.queue.drain()
  t.same(received, [`user.created:${user.id}`, `contact.created:${user.id}`])
})

t.test('services record their events with the change', async (t) => {
  const kronus = await buildKronus(t)
  const users = kronus.services.users
  const admin = await users.create(
    {
      first_name: 'A',
      last_name: 'B',
      email: 'a@example.com',
      phone_number: '+15550000010',
      password: 'pw-long-secret'
    },
    null
  )
  const actor = { userId: admin.id, isAdmin: true }
  const user = await users.create(
    {
      first_name: 'C',
      last_name: 'D',
      email: 'c@example.com',
      phone_number: '+15550000011',
      password: 'pw-long-secret'
    },
    actor
  )
  await users.update(user.id, { first_name: 'E', password: 'secret2-long', current_password: 'pw-long-secret' })
  const contact = await kronus.services.contacts.create(user.id, {
    first_name: 'F',
    last_name: 'G',
    phone_number: '+15550000012',
    is_emergency_contact: true
  })
  await kronus.services.contacts.update(user.id, contact.id, { last_name: 'H' })
  await kronus.services.probeSettings.update(user.id, { cron_expression: '0 9 * * *' })
  const spare = await kronus.services.contacts.create(user.id, {
    first_name: 'I',
    last_name: 'J',
    phone_number: '+15550000013'
  })
  await kronus.services.contacts.delete(user.id, spare.id)
  await users.delete(user.id)
  await t.rejects(users.update(user.id, { first_name: 'X' }), /not found/)

  const events = await kronus.events.list()
  t.same(
    events.map((e) => [e.type, e.payload]),
    [
      ['user.created', { userId: admin.id, isAdmin: true }],
      ['user.created', { userId: user.id, isAdmin: false }],
      ['user.updated', { userId: user.id, fields: ['first_name', 'password'] }],
      ['contact.created', { userId: user.id, contactId: contact.id, isEmergencyContact: true }],
      ['contact.invited', { userId: user.id, contactId: contact.id }],
      ['contact.updated', { userId: user.id, contactId: contact.id, fields: ['last_name'] }],
      ['probe_settings.updated', { userId: user.id, active: false, cronExpression: '0 9 * * *', nextFireAt: null }],
      ['contact.created', { userId: user.id, contactId: spare.id, isEmergencyContact: false }],
      ['contact.deleted', { userId: user.id, contactId: spare.id }],
      ['user.deleted', { userId: user.id }]
    ],
    'a failed update recorded nothing'
  )
  t.notMatch(JSON.stringify(events), /secret2/, 'no password value is ever in an event')
})

t.test('list filters by type, user and cursor, oldest first', async (t) => {
  const kronus = await buildKronus(t)
  await kronus.events.emit('user.deleted', { userId: 1 })
  await kronus.events.emit('user.deleted', { userId: 2 })
  await kronus.events.emit('server.started', { uri: 'x' })
  await kronus.events.emit('user.deleted', { userId: 1 })
  const all = await kronus.events.list()
  t.same(
    all.map((e) => e.type),
    ['user.deleted', 'user.deleted', 'server.started', 'user.deleted']
  )
  t.same(
    (await kronus.events.list({ userId: 1 })).map((e) => e.id),
    [all[0]!.id, all[3]!.id]
  )
  t.same(
    (await kronus.events.list({ type: 'server.started' })).map((e) => e.userId),
    [null]
  )
  t.same(
    (await kronus.events.list({ after: all[1]!.id })).map((e) => e.id),
    [all[2]!.id, all[3]!.id]
  )
  t.same(
    (await kronus.events.list({ limit: 1 })).map((e) => e.id),
    [all[0]!.id]
  )
})

t.test('event names are checked at run time too', async (t) => {
  const kronus = await buildKronus(t)
  t.throws(() => kronus.events.subscribe('x', 'Not An Event' as never, async () => undefined), /not a valid event name/)
  t.notOk(kronus.events.isKnownType('backup.completed'))
  kronus.events.declare('backup.completed')
  t.ok(kronus.events.isKnownType('backup.completed'))
  t.ok(kronus.events.types().includes('probe.status_changed'))
  kronus.events.subscribe('once', 'user.created', async () => undefined)
  t.throws(() => kronus.events.subscribe('once', 'user.deleted', async () => undefined), /already registered/)
  t.throws(
    () => kronus.events.subscribe('has spaces', 'user.deleted', async () => undefined),
    /must be 1 to 160 letters/
  )
})

t.test('a subscriber that fails on job.dead does not feed itself new job.dead events', async (t) => {
  const kronus = await buildKronus(t)
  kronus.events.subscribe(
    'alarm-forwarder',
    'job.dead',
    async () => {
      throw new Error('pager service down')
    },
    { maxAttempts: 1 }
  )
  await kronus.events.emit('job.dead', { jobId: 99, name: 'some.job', attempts: 4, lastError: 'boom' })
  await runAllJobs(kronus)
  const dead = await kronus.events.list({ type: 'job.dead' })
  t.same(
    dead.map((e) => e.payload.jobId),
    [99],
    'the failed delivery of a job.dead is logged, not turned into another job.dead'
  )
  t.same(
    (await kronus.knex('jobs').where({ name: 'events.deliver' })).map((j) => j.status),
    ['dead']
  )
})

t.test(
  'recordMany logs events in the given order, delivers them in order per user, and is heard after commit',
  async (t) => {
    const kronus = await buildKronus(t)
    const heard: number[] = []
    kronus.events.on('user.updated', (payload) => {
      heard.push(payload.userId * 1000 + Number(payload.fields[0]))
    })
    const delivered: Array<{ id: number; userId: number | null; n: number }> = []
    kronus.events.subscribe('many-test', 'user.updated', async (event) => {
      delivered.push({ id: event.id, userId: event.userId, n: Number(event.payload.fields[0]) })
    })
    // More than one multi-row statement's worth, for three users, interleaved.
    const payloads = Array.from({ length: 900 }, (_, n) => ({ userId: (n % 3) + 1, fields: [String(n)] }))
    await kronus.knex.transaction(async (trx) => {
      await kronus.events.recordMany(trx, 'user.updated', payloads)
      await new Promise((resolve) => setImmediate(resolve))
      t.same(heard, [], 'nothing heard before the commit')
    })
    await kronus.events.settled()
    t.same(
      heard,
      payloads.map((p) => p.userId * 1000 + Number(p.fields[0])),
      'heard in order'
    )

    const logged = await kronus.events.list({ type: 'user.updated', limit: 1000 })
    t.same(
      logged.map((e) => Number(e.payload.fields[0])),
      payloads.map((_, n) => n),
      'ids follow the given order'
    )
    t.same(
      logged.map((e) => e.userId),
      payloads.map((p) => p.userId)
    )

    await runAllJobs(kronus)
    t.equal(delivered.length, 900)
    for (const userId of [1, 2, 3]) {
      const mine = delivered.filter((d) => d.userId === userId).map((d) => d.n)
      t.same(
        mine,
        [...mine].sort((a, b) => a - b),
        `user ${userId}'s events delivered in order`
      )
      t.equal(mine.length, 300)
    }
  }
)

t.test("a durable subscriber's `wants` keeps the events it will not act on out of the queue", async (t) => {
  const kronus = await buildKronus(t)
  const delivered: number[] = []
  const asked: number[][] = []
  kronus.events.subscribe(
    'wants-test',
    'user.updated',
    async (event) => {
      delivered.push(event.payload.userId)
    },
    {
      wants: async (events, trx) => {
        asked.push(events.map((e) => e.payload.userId))
        // A read in the recording transaction sees what was written with the events.
        const [{ n }] = await trx('events').where({ type: 'user.updated' }).count({ n: '*' })
        t.ok(Number(n) >= events.length)
        return events.map((e) => e.payload.userId % 2 === 0)
      }
    }
  )
  await kronus.knex.transaction((trx) =>
    kronus.events.recordMany(
      trx,
      'user.updated',
      [1, 2, 3, 4].map((userId) => ({ userId, fields: ['x'] }))
    )
  )
  await kronus.knex.transaction((trx) => kronus.events.record(trx, 'user.updated', { userId: 6, fields: ['x'] }))
  t.same(asked, [[1, 2, 3, 4], [6]], 'asked once per batch of events')
  const [{ n }] = await kronus.knex('jobs').where({ name: 'events.deliver' }).count({ n: '*' })
  t.equal(Number(n), 3, 'no job for the events it does not want')
  await runAllJobs(kronus)
  t.same(delivered.sort(), [2, 4, 6], "the wanted ones, each once (users' deliveries run side by side)")
  t.equal((await kronus.events.list({ type: 'user.updated' })).length, 5, 'every event is logged all the same')
})

t.test('a `wants` that fails spoils nothing: the change commits and every event is delivered', async (t) => {
  const kronus = await buildKronus(t)
  const delivered: number[] = []
  kronus.events.subscribe(
    'failing-wants',
    'user.updated',
    async (event) => {
      delivered.push(event.payload.userId)
    },
    {
      wants: async (_events, trx) => {
        // A failed statement aborts a PostgreSQL transaction unless it ran in a savepoint.
        await trx.raw('SELECT * FROM no_such_table')
        return []
      }
    }
  )
  await kronus.knex.transaction(async (trx) => {
    await kronus.events.record(trx, 'user.updated', { userId: 1, fields: ['x'] })
    await trx('events').where({ user_id: 1 }).first()
  })
  await runAllJobs(kronus)
  t.same(delivered, [1])
})

t.test(
  'recordEach: events of several types in one call keep their order, and each subscriber hears only its own',
  async (t) => {
    const kronus = await buildKronus(t)
    const asked: string[][] = []
    const delivered: string[] = []
    kronus.events.subscribe(
      'mixed-types',
      ['user.updated', 'user.deleted'],
      async (event) => {
        delivered.push(`${event.type}:${event.userId}`)
      },
      {
        wants: async (events) => {
          asked.push(events.map((e) => `${e.type}:${e.userId}`))
          return events.map((e) => e.userId !== 3)
        }
      }
    )
    const heard: string[] = []
    for (const type of ['user.created', 'user.updated', 'user.deleted'] as const) {
      kronus.events.on(type, (_payload, event) => {
        heard.push(`${event.type}:${event.userId}`)
      })
    }

    await kronus.knex.transaction((trx) =>
      kronus.events.recordEach(trx, [
        { type: 'user.created', payload: { userId: 3, isAdmin: false } },
        { type: 'user.updated', payload: { userId: 3, fields: ['email'] } },
        { type: 'user.updated', payload: { userId: 4, fields: ['email'] }, hiddenFromUser: true },
        { type: 'user.deleted', payload: { userId: 4 } }
      ])
    )
    await kronus.events.settled()

    const logged = await kronus.events.list()
    t.same(
      logged.map((e) => `${e.type}:${e.userId}`),
      ['user.created:3', 'user.updated:3', 'user.updated:4', 'user.deleted:4'],
      'logged in the given order, ids ascending'
    )
    t.same(
      logged.map((e) => e.hiddenFromUser),
      [false, false, true, false],
      'each event keeps its own hidden flag'
    )
    t.same(
      heard,
      ['user.created:3', 'user.updated:3', 'user.updated:4', 'user.deleted:4'],
      'heard after commit, in order'
    )
    t.same(
      asked,
      [['user.updated:3', 'user.updated:4', 'user.deleted:4']],
      "the subscriber's filter is asked once, for the events of its types only"
    )
    await runAllJobs(kronus)
    t.same(delivered, ['user.updated:4', 'user.deleted:4'], 'the wanted ones are delivered, in order for the user')
  }
)

t.test('recordEach: a rolled-back change leaves none of its events', async (t) => {
  const kronus = await buildKronus(t)
  const heard: string[] = []
  kronus.events.on('user.updated', (_payload, event) => {
    heard.push(event.type)
  })
  await t.rejects(
    kronus.knex.transaction(async (trx) => {
      await kronus.events.recordEach(trx, [
        { type: 'user.updated', payload: { userId: 1, fields: ['email'] } },
        { type: 'user.deleted', payload: { userId: 1 } }
      ])
      throw new Error('the change failed')
    }),
    /the change failed/
  )
  await kronus.events.settled()
  t.same(await kronus.events.list(), [])
  t.same(heard, [])
})

t.test("a slow delivery holds back neither other users' deliveries nor its own batch", async (t) => {
  const kronus = await buildKronus(t)
  const received: number[] = []
  let othersIn!: () => void
  const others = new Promise<void>((resolve) => {
    othersIn = resolve
  })
  kronus.events.subscribe('slow-for-one', 'user.deleted', async (event) => {
    const { userId } = event.payload
    // User 1's delivery, first in its batch, finishes only once users 2 and 3 have theirs:
    // were a batch handled one delivery after another, it never would.
    if (userId === 1)
      await Promise.race([
        others,
        new Promise((_, reject) => setTimeout(() => reject(new Error('the others never came')), 10_000))
      ])
    received.push(userId)
    if (received.includes(2) && received.includes(3)) othersIn()
  })
  for (const userId of [1, 2, 3]) await kronus.events.emit('user.deleted', { userId })
  await kronus.queue.drain()
  t.same(received, [2, 3, 1])
  t.same(
    (await kronus.knex('jobs').where({ name: 'events.deliver' })).map((j) => [j.status, Number(j.attempts)]),
    Array(3).fill(['successful', 1]),
    'each delivered on its first try'
  )
})

t.test(
  'deliveries whose batch runs out of time: one still running is retried, one not begun goes back untried',
  async (t) => {
    const kronus = await buildKronus(t)
    // An event log of its own on a queue with a short timeout, beside the test Kronus's.
    const queue = queueFor(kronus, { defaultTimeoutMs: 200 })
    const log = new EventLog({ knex: kronus.knex, clock: kronus.clock, logger: pino({ level: 'silent' }), queue })
    let letGo!: () => void
    const hanging = new Promise<void>((resolve) => {
      letGo = resolve
    })
    t.teardown(() => letGo())
    const received: number[] = []
    // More hanging deliveries than a batch runs at once, so the last ones never begin.
    log.subscribe('hangs', 'user.deleted', async (event) => {
      if (event.payload.userId <= 8) await hanging
      received.push(event.payload.userId)
    })
    const users = Array.from({ length: 10 }, (_, i) => i + 1)
    await kronus.knex.transaction((trx) =>
      log.recordMany(
        trx,
        'user.deleted',
        users.map((userId) => ({ userId }))
      )
    )
    t.equal(await queue.runDue(), 10, 'one batch of ten')
    const rows = await kronus.knex('jobs').where({ name: 'events.deliver' }).orderBy('id')
    const state = rows.map((row) => [row.status, Number(row.attempts)])
    t.same(state.slice(0, 8), Array(8).fill(['scheduled', 1]), 'the eight that timed out wait for their retry')
    for (const row of rows.slice(0, 8)) t.match(row.last_error, /timed out/)
    t.same(
      state.slice(8),
      Array(2).fill(['enqueued', 0]),
      'the two not begun are back in line, their attempt given back'
    )
    t.same(received, [], 'no handler had finished when the batch answered')

    letGo()
    kronus.clock.advance(60_000)
    await queue.drain()
    t.same(
      received.slice().sort((a, b) => a - b),
      [...users, ...users.slice(0, 8)].sort((a, b) => a - b),
      'the two untried go through, and the eight retried are delivered again (at least once)'
    )
  }
)

t.test("a subscriber whose handler hangs does not hold back another subscriber's later deliveries", async (t) => {
  const kronus = await buildKronus(t)
  // One shared slot, a short batch time: the backlog of the one that hangs fills every batch it is in.
  const queue = queueFor(kronus, { concurrency: 1, urgentSlots: 0, defaultTimeoutMs: 200 })
  const log = new EventLog({ knex: kronus.knex, clock: kronus.clock, logger: pino({ level: 'silent' }), queue })
  let letGo!: () => void
  const hanging = new Promise<void>((resolve) => {
    letGo = resolve
  })
  t.teardown(() => letGo())
  log.subscribe('hangs', 'user.updated', async () => {
    await hanging
  })
  const quick: number[] = []
  log.subscribe('quick', 'user.deleted', async (event) => {
    quick.push(event.payload.userId)
  })
  await backlogThenOneMore(kronus, log)
  kronus.clock.advance(1000)
  t.equal(await queue.runDue(), 100, "the first batch is the hung subscriber's alone")
  t.same(quick, [], 'the quick delivery, queued after them, was not in it')
  // Its 92 not begun went behind the deliveries waiting: the next batch holds the 50 older ones and the quick one.
  await queue.runDue()
  t.same(quick, [500], "the quick delivery is made in the second batch, while the other subscriber's still hang")
  const hung = (
    await kronus.knex('jobs').where({ name: 'events.deliver' }).where('lane', 'like', 'events:hangs:%')
  ).map((row) => `${row.status} ${Number(row.attempts)}`)
  t.equal(hung.length, 150)
  t.same(
    [...new Set(hung)].sort(),
    ['enqueued 0', 'scheduled 1'],
    "every one of the hung subscriber's deliveries still waits: untried, or for its retry after timing out"
  )
})

t.test("a subscriber's priority puts its deliveries ahead of an older backlog of other subscribers'", async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 1, urgentSlots: 0 })
  const log = new EventLog({ knex: kronus.knex, clock: kronus.clock, logger: pino({ level: 'silent' }), queue })
  const received: string[] = []
  log.subscribe('bulk', 'user.updated', async (event) => {
    received.push(`bulk ${event.payload.userId}`)
  })
  log.subscribe(
    'alarm-work',
    'user.deleted',
    async (event) => {
      received.push(`alarm-work ${event.payload.userId}`)
    },
    { priority: 10 }
  )
  await backlogThenOneMore(kronus, log)
  t.equal(await queue.runDue(), 100, 'one batch')
  t.ok(received.includes('alarm-work 500'), 'the later, higher-priority delivery is in the first batch')
  t.equal(received.filter((r) => r.startsWith('bulk')).length, 99, 'beside 99 of the 150 older ones')
  await queue.drain()
  t.equal(received.length, 151)
  t.same(
    (await kronus.knex('jobs').where({ name: 'events.deliver' }).distinct('priority'))
      .map((r) => Number(r.priority))
      .sort(),
    [0, 10],
    "each delivery carries its subscriber's priority"
  )
})

t.test(
  'a durable subscriber with a priority that is not a whole number of 0 or more is refused at registration',
  async (t) => {
    const kronus = await buildKronus(t)
    for (const priority of [-1, 1.5, Number.NaN])
      t.throws(
        () => kronus.events.subscribe(`bad-${priority}`, 'user.deleted', async () => {}, { priority }),
        /priority of durable subscriber .* must be a whole number of 0 or more/
      )
  }
)
