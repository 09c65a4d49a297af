import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import type { PluginDatabase } from '../../src/plugins/database.js'
import { definePlugin } from '../../src/plugins/define.js'
import { rollbackPlugin } from '../../src/plugins/migrate.js'
import type { PluginMigration } from '../../src/plugins/types.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'

/* A plugin's own tables: made when it is configured, once per database, in order, after the core's. */

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-plugin-migrations-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const notes: PluginMigration = {
  name: '0001_notes',
  // A foreign key to a core table: the core's migrations have run by now.
  up: (knex) =>
    knex.schema.createTable('notebook_notes', (table) => {
      table.increments('id').primary()
      table.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
      table.text('body').notNullable()
    }),
  down: (knex) => knex.schema.dropTable('notebook_notes')
}

const pinned: PluginMigration = {
  name: '0002_pinned',
  up: (knex) =>
    knex.schema.alterTable('notebook_notes', (table) => table.boolean('pinned').notNullable().defaultTo(false)),
  down: (knex) => knex.schema.alterTable('notebook_notes', (table) => table.dropColumn('pinned'))
}

function notebook(
  migrations: PluginMigration[],
  onRegister: (db: PluginDatabase) => Promise<void> = async () => undefined
) {
  return definePlugin({
    name: 'notebook',
    version: '1.0.0',
    tables: ['notebook_notes'],
    migrations,
    register: (kronus) => onRegister(kronus.db)
  })()
}

function open(t: Test, dir: string, plugins: ReturnType<typeof notebook>[]): Promise<TestKronus> {
  return buildKronus(t, { dir, config: { plugins } })
}

const recorded = (kronus: TestKronus) => kronus.knex('plugin_migrations').orderBy('id').pluck('name')

t.test("a configured plugin's migrations run in order before it registers, once per database", async (t) => {
  const dir = tempDir(t)
  let columnsAtRegister: string[] = []
  const plugin = notebook([notes, pinned], async (db) => {
    columnsAtRegister = Object.keys(await db.table('notebook_notes').columnInfo())
  })
  const first = await open(t, dir, [plugin])
  t.same(columnsAtRegister.sort(), ['body', 'id', 'pinned', 'user_id'], 'both migrations ran before register')
  t.same(await recorded(first), ['0001_notes', '0002_pinned'])
  t.same(
    await first.knex('plugin_migrations').distinct('plugin').pluck('plugin'),
    ['notebook'],
    'recorded under the plugin'
  )
  await first.stop()

  const again = await open(t, dir, [plugin])
  t.same(await recorded(again), ['0001_notes', '0002_pinned'], 'a restart runs nothing again')
})

t.test(
  'an unconfigured plugin gets no tables; configured later, its migrations run then and the old rows stay when it is removed',
  async (t) => {
    const dir = tempDir(t)
    const without = await open(t, dir, [])
    t.notOk(await without.knex.schema.hasTable('notebook_notes'))
    await without.stop()

    const withIt = await open(t, dir, [notebook([notes])])
    t.ok(await withIt.knex.schema.hasTable('notebook_notes'))
    const [user] = await withIt
      .knex('users')
      .insert({
        first_name: 'a',
        last_name: 'b',
        email: 'a@example.com',
        phone_number: '+15550000001',
        password_hash: 'x',
        role_id: 2,
        created_at: 0,
        updated_at: 0
      })
      .returning('id')
    await withIt.knex('notebook_notes').insert({ user_id: typeof user === 'object' ? user.id : user, body: 'kept' })
    await withIt.stop()

    const removed = await open(t, dir, [])
    t.same(
      await removed.knex('notebook_notes').pluck('body'),
      ['kept'],
      'taking the plugin out of the configuration drops nothing'
    )
    await removed.stop()

    const upgraded = await open(t, dir, [notebook([notes, pinned])])
    const rows = await upgraded.knex('notebook_notes').select('body', 'pinned')
    // SQLite has no booleans: false reads back as 0.
    t.same(
      rows.map((row) => ({ body: row.body, pinned: Boolean(row.pinned) })),
      [{ body: 'kept', pinned: false }],
      'a new migration of the plugin runs on the next start'
    )
  }
)

t.test('a database that ran a migration the plugin no longer has is refused, naming the plugin', async (t) => {
  const dir = tempDir(t)
  const newer = await open(t, dir, [notebook([notes, pinned])])
  await newer.stop()
  await t.rejects(open(t, dir, [notebook([notes])]), {
    name: 'PluginError',
    plugin: 'notebook',
    message:
      /plugin "notebook": this database ran its migration\(s\) 0002_pinned, which this version of the plugin does not have/
  })
})

t.test('a migration that fails stops start-up, naming the plugin and the migration, and is not recorded', async (t) => {
  const dir = tempDir(t)
  const broken: PluginMigration = {
    name: '0002_broken',
    up: async (knex) => {
      await knex.schema.alterTable('notebook_notes', (table) => table.string('half_made'))
      throw new Error('disk full')
    },
    down: async () => undefined
  }
  await t.rejects(open(t, dir, [notebook([notes, broken])]), {
    message: /^plugin "notebook": migration "0002_broken" failed: disk full$/
  })
  const fixed = await open(t, dir, [notebook([notes, pinned])])
  t.same(
    await recorded(fixed),
    ['0001_notes', '0002_pinned'],
    'the first migration was kept, the broken one rolled back'
  )
  t.notOk(await fixed.knex.schema.hasColumn('notebook_notes', 'half_made'))
})

t.test('rollbackPlugin undoes the recorded migrations, newest first, for a plugin taken out for good', async (t) => {
  const dir = tempDir(t)
  const plugin = notebook([notes, pinned])
  const kronus = await open(t, dir, [plugin])
  await rollbackPlugin(kronus.knex, plugin)
  t.notOk(await kronus.knex.schema.hasTable('notebook_notes'))
  t.same(await recorded(kronus), [])
})
