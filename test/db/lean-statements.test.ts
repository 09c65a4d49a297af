import { createRequire } from 'node:module'
import t from 'tap'
import { positionBindings } from '../../src/db/lean-statements.js'
import { buildKronus } from '../helpers/app.js'

// src/db/lean-statements.ts builds multi-row inserts and value lists on both databases.

t.test('multi-row inserts: rows in order, returning, on conflict ignore and merge', async (t) => {
  const kronus = await buildKronus(t)
  const knex = kronus.knex
  await knex.schema.createTable('insert_probe', (table) => {
    table.increments('id')
    table.string('k').notNullable().unique()
    table.string('v')
  })
  const insert = knex('insert_probe').insert([
    { k: 'a', v: 'one' },
    { k: 'b', v: null },
    { k: 'c', v: 'three' }
  ])
  // On SQLCipher as on PostgreSQL: one VALUES list, not knex's SQLite `select … union all select …`.
  t.match(insert.toSQL().sql, /^insert into .insert_probe. \(.k., .v.\) values \(\?, \?\), \(\?, \?\), \(\?, \?\)$/)
  t.notMatch(insert.toSQL().sql, /union all/)
  const ids: Array<{ id: number }> = await insert.returning('id')
  t.same(
    ids.map((r) => Number(r.id)).sort((x, y) => x - y),
    [1, 2, 3]
  )
  t.same(await knex('insert_probe').orderBy('id').select('k', 'v'), [
    { k: 'a', v: 'one' },
    { k: 'b', v: null },
    { k: 'c', v: 'three' }
  ])

  const ignored: Array<{ id: number }> = await knex('insert_probe')
    .insert([
      { k: 'a', v: 'again' },
      { k: 'd', v: 'four' }
    ])
    .onConflict('k')
    .ignore()
    .returning('id')
  t.equal(ignored.length, 1, 'the clashing row is skipped')
  t.same(await knex('insert_probe').where('id', ignored[0]!.id).select('k', 'v'), [{ k: 'd', v: 'four' }])

  // Rows with different columns: the missing ones are NULL (SQLCipher) or default.
  await knex('insert_probe')
    .insert([{ k: 'b', v: 'two' }, { k: 'e' }])
    .onConflict('k')
    .merge(['v'])
  t.same(await knex('insert_probe').orderBy('id').select('k', 'v'), [
    { k: 'a', v: 'one' },
    { k: 'b', v: 'two' },
    { k: 'c', v: 'three' },
    { k: 'd', v: 'four' },
    { k: 'e', v: null }
  ])
  // A raw value in one cell keeps its own SQL and bindings, in place among the others.
  await knex('insert_probe').insert([
    { k: 'f', v: knex.raw('upper(?)', ['six']) },
    { k: 'g', v: 'seven' }
  ])
  t.same(await knex('insert_probe').whereIn('k', ['f', 'g']).orderBy('k').select('k', 'v'), [
    { k: 'f', v: 'SIX' },
    { k: 'g', v: 'seven' }
  ])
  await knex('insert_probe').whereIn('k', ['f', 'g']).delete()
  // A merge may be limited by a where clause, as for a single row.
  await knex('insert_probe')
    .insert([
      { k: 'a', v: 'changed' },
      { k: 'c', v: 'changed' }
    ])
    .onConflict('k')
    .merge(['v'])
    .where('insert_probe.k', 'c')
  t.same(
    (await knex('insert_probe').orderBy('id').select('v')).map((r: { v: string | null }) => r.v),
    ['one', 'two', 'changed', 'four', null]
  )
})

t.test('value lists: whereIn of plain values, of values with a raw one, of undefined', async (t) => {
  const kronus = await buildKronus(t)
  const knex = kronus.knex
  await knex.schema.createTable('list_probe', (table) => {
    table.integer('n').primary()
  })
  const all = Array.from({ length: 1200 }, (_, i) => i)
  for (let i = 0; i < all.length; i += 400) await knex('list_probe').insert(all.slice(i, i + 400).map((n) => ({ n })))
  const query = knex('list_probe').whereIn('n', [3, 1, 2]).orderBy('n')
  t.match(query.toSQL().sql, /where .n. in \(\?, \?, \?\) order by/)
  t.same(query.toSQL().bindings, [3, 1, 2])
  t.same(
    (await query).map((r: { n: number }) => r.n),
    [1, 2, 3]
  )
  // Long lists (more than any list before them) and short ones after them.
  const odd = all.filter((n) => n % 2 === 1)
  t.equal((await knex('list_probe').whereIn('n', odd).count({ c: '*' }))[0]!.c, 600)
  t.same(
    (await knex('list_probe').whereIn('n', [7, 8]).orderBy('n')).map((r: { n: number }) => r.n),
    [7, 8]
  )
  const mixed = knex('list_probe')
    .whereIn('n', [5, knex.raw('? + 1', [5])])
    .orderBy('n')
  t.match(mixed.toSQL().sql, /in \(\?, \? \+ 1\)/)
  t.same(
    (await mixed).map((r: { n: number }) => r.n),
    [5, 6]
  )
  t.throws(
    () =>
      knex('list_probe')
        .whereIn('n', [1, undefined] as unknown as number[])
        .toSQL(),
    /Undefined binding\(s\) detected/
  )
})

t.test("positionBindings numbers the bindings exactly as knex's PostgreSQL client", async (t) => {
  const knexPg = createRequire(import.meta.url)('knex/lib/dialects/postgres/index.js')
  const knexPositions = (sql: string): string => knexPg.prototype.positionBindings.call({}, sql)
  const fixed = [
    '',
    'select 1',
    '?',
    'select * from "t" where "a" = ? and "b" in (?, ?, ?)',
    'insert into "jobs" ("a", "b") values (?, ?), (?, ?) on conflict ("a") do nothing returning "id"',
    "select '\\?' as q, ? as p, '\\\\?' as r, '\\\\\\?' as s, ??",
    '?\\?\\\\??end',
    '\\ no question \\'
  ]
  for (const sql of fixed) t.equal(positionBindings(sql), knexPositions(sql), sql)
  // Random strings of the characters that matter.
  let seed = 17
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const alphabet = ['?', '\\', 'a', ' ', ',', '$']
  for (let i = 0; i < 2000; i++) {
    const length = Math.floor(random() * 30)
    const sql = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')
    if (positionBindings(sql) !== knexPositions(sql)) {
      t.fail(`differs from knex for ${JSON.stringify(sql)}`)
      return
    }
  }
  t.pass('2000 random strings of question marks, backslashes, letters and separators numbered as knex numbers them')
  // Many bindings: $1 … $6400 in order.
  const many = Array.from({ length: 6400 }, () => '?').join(', ')
  t.equal(positionBindings(many), knexPositions(many))
})
