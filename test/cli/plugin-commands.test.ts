import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildProgram } from '../../src/cli/program.js'
import { definePlugin } from '../../src/plugins/define.js'
import type { PluginCommandContext } from '../../src/plugins/types.js'
import { testPrivateKeyPem } from '../helpers/keys.js'

/* A plugin of the catalogue adds its own subcommands; the core names none of them. */

t.test(
  "the catalogue's commands join the program after the core's own and before completion, in catalogue order",
  async (t) => {
    const tool = (name: string) =>
      definePlugin({
        name,
        version: '1.0.0',
        commands: (program) => void program.command(name).description(`the ${name} command`),
        register() {}
      })
    const quiet = definePlugin({ name: 'quiet', version: '1.0.0', register() {} })
    const program = buildProgram({ catalogue: [tool('first'), quiet, tool('second')], implied: () => [] })
    t.same(
      program.commands.map((command) => command.name()),
      ['server', 'user', 'first', 'second', 'completion']
    )
  }
)

t.test(
  "a command's context loads the configuration and opens its database, checking the passphrase first",
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kronus-plugin-command-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    let cli: PluginCommandContext | undefined
    const tool = definePlugin({
      name: 'tool',
      version: '1.0.0',
      commands: (_program, context) => void (cli = context),
      register() {}
    })
    buildProgram({ catalogue: [tool], implied: () => [] })

    const configFile = (passPhrase: string) => {
      const file = join(dir, `${passPhrase}.yml`)
      writeFileSync(
        file,
        `database:\n  filename: ${join(dir, 'tool.db')}\nkronus:\n  privateKeyPem: |\n${testPrivateKeyPem()
          .trim()
          .split('\n')
          .map((line) => `    ${line}`)
          .join('\n')}\n  sqlite:\n    passPhrase: ${passPhrase}\n`
      )
      return file
    }
    const config = await cli!.loadConfig(configFile('right-one'))
    t.equal(config.database.filename, join(dir, 'tool.db'))
    const knex = await cli!.openDatabase(config)
    await knex.schema.createTable('tool_rows', (table) => table.string('note'))
    await knex.destroy()

    await t.rejects(cli!.openDatabase(await cli!.loadConfig(configFile('wrong-one'))), /passphrase|not a database/i)
  }
)
