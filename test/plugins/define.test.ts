import Joi from 'joi'
import t from 'tap'
import { definePlugin } from '../../src/plugins/define.js'

const sms = definePlugin({
  name: 'example-sms',
  version: '1.2.3',
  options: Joi.object<{ accountSid: string; rate?: number }>({
    accountSid: Joi.string().pattern(/^AC/).required(),
    rate: Joi.number().integer().min(1).default(5)
  }),
  register() {}
})

t.test('options are validated when the plugin is configured, naming the plugin and each bad option', async (t) => {
  t.throws(() => sms({ accountSid: 'nope', rate: 0 }), {
    message:
      /^Bad options for example-sms: .*"accountSid" with value "nope" fails to match the required pattern.*"rate" must be greater than or equal to 1/
  })
  t.throws(() => (sms as (o?: unknown) => unknown)(), {
    message: /^Bad options for example-sms: "accountSid" is required/
  })
})

t.test('the configured plugin carries its validated options with defaults', async (t) => {
  const plugin = sms({ accountSid: 'AC123' })
  t.match(plugin, { name: 'example-sms', version: '1.2.3', options: { accountSid: 'AC123', rate: 5 }, events: [] })
})

t.test('a plugin without options takes none', async (t) => {
  const bare = definePlugin({ name: 'bare', version: '1.0.0', register() {} })
  t.same(bare().options, {})
  t.throws(() => (bare as (o: unknown) => unknown)({ surprise: true }), {
    message: /^Bad options for bare: "surprise" is not allowed/
  })
})

t.test('a plugin definition is checked when it is defined', async (t) => {
  t.throws(
    () => definePlugin({ name: 'Has Spaces', version: '1', register() {} }),
    /lower-case letters, digits and dashes/
  )
  t.throws(() => definePlugin({ name: 'ok', version: '', register() {} }), /needs a version/)
  t.throws(
    () => definePlugin({ name: 'ok', version: '1', events: ['NotAnEvent'], register() {} }),
    /invalid event name "NotAnEvent"/
  )
})

t.test("a plugin's migrations are checked when it is defined, and carried by the configured plugin", async (t) => {
  const up = async () => undefined
  const down = async () => undefined
  t.throws(
    () => definePlugin({ name: 'ok', version: '1', migrations: [{ name: '', up, down }], register() {} }),
    /declares a migration without a name/
  )
  t.throws(
    () =>
      definePlugin({
        name: 'ok',
        version: '1',
        migrations: [
          { name: '0001_a', up, down },
          { name: '0001_a', up, down }
        ],
        register() {}
      }),
    /declares migration "0001_a" twice/
  )
  t.throws(
    () => definePlugin({ name: 'ok', version: '1', migrations: [{ name: '0001_a', up } as any], register() {} }),
    /migration "0001_a" needs up and down functions/
  )
  const tables = definePlugin({
    name: 'tables',
    version: '1',
    migrations: [
      { name: '0001_a', up, down },
      { name: '0002_b', up, down }
    ],
    register() {}
  })
  t.same(
    tables().migrations!.map((migration) => migration.name),
    ['0001_a', '0002_b']
  )
  t.same(definePlugin({ name: 'bare', version: '1', register() {} })().migrations, [])
})

t.test(
  "a plugin's commands are on its factory, for the command line to add before any configuration exists",
  async (t) => {
    const commands = () => undefined
    t.equal(definePlugin({ name: 'tool', version: '1', commands, register() {} }).commands, commands)
    t.equal(definePlugin({ name: 'quiet', version: '1', register() {} }).commands, undefined)
    t.throws(
      () => definePlugin({ name: 'ok', version: '1', commands: 'backup' as any, register() {} }),
      /commands must be a function/
    )
  }
)
