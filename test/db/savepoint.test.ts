import t from 'tap'
import { uniqueViolationColumn } from '../../src/db/errors.js'
import { inSavepoint } from '../../src/db/savepoint.js'
import { buildKronus } from '../helpers/app.js'

// src/db/savepoint.ts: a failure inside is rolled back alone; the transaction around it goes on and commits.

t.test('a savepoint that fails rolls back its own writes and leaves the transaction usable', async (t) => {
  const kronus = await buildKronus(t)
  const knex = kronus.knex
  await knex.schema.createTable('savepoint_probe', (table) => {
    table.increments('id')
    table.string('v').notNullable()
  })
  await knex.transaction(async (trx) => {
    await trx('savepoint_probe').insert({ v: 'before' })
    await t.rejects(
      inSavepoint(trx, async (inner) => {
        await inner('savepoint_probe').insert({ v: 'inside, then rolled back' })
        // A failed statement aborts a PostgreSQL transaction unless it ran in a savepoint.
        await inner.raw('SELECT * FROM no_such_table')
      }),
      /no_such_table/
    )
    const kept = await inSavepoint(trx, async (inner) => {
      await inner('savepoint_probe').insert({ v: 'inside, kept' })
      return 'the result'
    })
    t.equal(kept, 'the result', 'a savepoint that succeeds gives its result')
    await trx('savepoint_probe').insert({ v: 'after' })
  })
  t.same(
    (await knex('savepoint_probe').orderBy('id').select('v')).map((row) => row.v),
    ['before', 'inside, kept', 'after'],
    'the outer writes and the kept savepoint commit; the failed one left nothing'
  )
})

t.test('savepoints nest, and the outer transaction rolling back takes a released savepoint with it', async (t) => {
  const kronus = await buildKronus(t)
  const knex = kronus.knex
  await knex.schema.createTable('savepoint_nest', (table) => {
    table.increments('id')
    table.string('v').notNullable()
  })
  await knex.transaction(async (trx) => {
    await inSavepoint(trx, async (outer) => {
      await outer('savepoint_nest').insert({ v: 'outer' })
      await t.rejects(
        inSavepoint(outer, async (inner) => {
          await inner('savepoint_nest').insert({ v: 'inner' })
          throw new Error('inner fails')
        }),
        /inner fails/
      )
    })
  })
  t.same(
    (await knex('savepoint_nest').select('v')).map((row) => row.v),
    ['outer'],
    'the inner failure undid only the inner write'
  )

  await t.rejects(
    knex.transaction(async (trx) => {
      await inSavepoint(trx, (inner) => inner('savepoint_nest').insert({ v: 'released, then rolled back' }))
      throw new Error('the transaction fails after the savepoint was released')
    }),
    /after the savepoint/
  )
  t.equal(
    Number((await knex('savepoint_nest').count({ n: '*' }))[0]!.n),
    1,
    "a released savepoint's write goes when its transaction rolls back"
  )
})

t.test(
  'a unique value taken meanwhile fails only its savepoint, and another value can be tried in the same transaction',
  async (t) => {
    // What the alarm engine does with a code another transaction took between its check and its insert.
    const kronus = await buildKronus(t)
    const knex = kronus.knex
    await knex.schema.createTable('savepoint_codes', (table) => {
      table.increments('id')
      table.string('code').notNullable().unique()
    })
    await knex('savepoint_codes').insert({ code: '42' })
    await knex.transaction(async (trx) => {
      const taken = await inSavepoint(trx, (inner) => inner('savepoint_codes').insert({ code: '42' })).then(
        () => null,
        (err: unknown) => uniqueViolationColumn(err)
      )
      t.equal(taken, 'code', 'the insert fails as a unique violation of the code')
      await inSavepoint(trx, (inner) => inner('savepoint_codes').insert({ code: '43' }))
    })
    t.same(
      (await knex('savepoint_codes').orderBy('id').select('code')).map((row) => row.code),
      ['42', '43'],
      'the second draw committed with the transaction'
    )
  }
)
