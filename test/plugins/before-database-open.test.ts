import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Joi from 'joi'
import t from 'tap'
import { definePlugin } from '../../src/plugins/define.js'
import { buildKronus } from '../helpers/app.js'

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-pre-open-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('beforeDatabaseOpen runs before the database exists, in plugin order, before any register', async (t) => {
  const dir = tempDir(t)
  const calls: string[] = []
  const plugin = (name: string) =>
    definePlugin<{ tag?: string }>({
      name,
      version: '1.0.0',
      options: Joi.object({ tag: Joi.string().default('none') }),
      beforeDatabaseOpen(kronus, options) {
        calls.push(`${kronus.name}:${options.tag}:db=${existsSync(kronus.config.database.filename)}`)
      },
      register(kronus) {
        calls.push(`${kronus.name}:register`)
      }
    })
  const first = plugin('first')
  const second = plugin('second')
  await buildKronus(t, { dir, database: 'sqlcipher', config: { plugins: [first({ tag: 'a' }), second()] } })
  t.same(calls, ['first:a:db=false', 'second:none:db=false', 'first:register', 'second:register'])
})

t.test('a hook that throws stops start-up, naming the plugin, and no database is created', async (t) => {
  const dir = tempDir(t)
  const failing = definePlugin({
    name: 'restorer',
    version: '1.0.0',
    beforeDatabaseOpen() {
      throw new Error('the backup is corrupt')
    },
    register() {}
  })
  await t.rejects(
    buildKronus(t, { dir, database: 'sqlcipher', config: { plugins: [failing()] } }),
    /plugin "restorer" failed before the database was opened: the backup is corrupt/
  )
  t.same(readdirSync(dir), [])
})

t.test('a hook may put the database file in place before Kronus opens it', async (t) => {
  const source = tempDir(t)
  const original = await buildKronus(t, { dir: source, database: 'sqlcipher' })
  await original.knex.schema.createTable('hook_marker', (table) => table.string('note'))
  await original.knex('hook_marker').insert({ note: 'copied in by the hook' })
  await original.stop()
  const bytes = readFileSync(join(source, 'kronus.db'))

  const dir = tempDir(t)
  const copier = definePlugin({
    name: 'copier',
    version: '1.0.0',
    beforeDatabaseOpen(kronus) {
      writeFileSync(kronus.config.database.filename, bytes)
    },
    register() {}
  })
  const kronus = await buildKronus(t, { dir, database: 'sqlcipher', config: { plugins: [copier()] } })
  t.same(await kronus.knex('hook_marker').select('note'), [{ note: 'copied in by the hook' }])
})

t.test('definePlugin refuses a beforeDatabaseOpen that is not a function', async (t) => {
  t.throws(
    () => definePlugin({ name: 'odd', version: '1.0.0', beforeDatabaseOpen: 'soon' as never, register() {} }),
    /plugin "odd": beforeDatabaseOpen must be a function/
  )
})
