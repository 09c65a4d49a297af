import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Joi from 'joi'
import t from 'tap'
import { definePlugin } from '../../src/plugins/define.js'
import type { PluginContext } from '../../src/plugins/types.js'
import { buildKronus } from '../helpers/app.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'host-test.work': { n: number }
  }
}

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-plugin-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A plugin that writes what happens to it into `log`. */
function tracer(name: string, log: string[], failStart = false) {
  return definePlugin({
    name,
    version: '1.0.0',
    register() {
      log.push(`register ${name}`)
      return {
        start() {
          if (failStart) throw new Error('port in use')
          log.push(`start ${name}`)
        },
        stop() {
          log.push(`stop ${name}`)
        }
      }
    }
  })()
}

t.test('plugins register and start in order and stop in reverse', async (t) => {
  const log: string[] = []
  const kronus = await buildKronus(t, { config: { plugins: [tracer('a', log), tracer('b', log), tracer('c', log)] } })
  t.same(log, ['register a', 'register b', 'register c'])
  await kronus.start()
  t.same(log.slice(3), ['start a', 'start b', 'start c'])
  await kronus.stop()
  t.same(log.slice(6), ['stop c', 'stop b', 'stop a'])
})

t.test('a plugin that fails to register stops start-up with its name in the message', async (t) => {
  const broken = definePlugin({
    name: 'broken-plugin',
    version: '0.1.0',
    register() {
      throw new Error('missing API key')
    }
  })
  const log: string[] = []
  await t.rejects(buildKronus(t, { dir: tempDir(t), config: { plugins: [tracer('fine', log), broken()] } }), {
    name: 'PluginError',
    message: 'plugin "broken-plugin" failed to register: missing API key'
  })
  t.same(log, ['register fine'], 'plugins after it are not registered')
})

t.test('a plugin that fails to start stops start-up and the ones already started stop again', async (t) => {
  const log: string[] = []
  const kronus = await buildKronus(t, {
    config: { plugins: [tracer('a', log), tracer('b', log, true), tracer('c', log)] }
  })
  await t.rejects(kronus.start(), { message: 'plugin "b" failed to start: port in use' })
  t.same(log, ['register a', 'register b', 'register c', 'start a', 'stop a'])
})

t.test('the same plugin listed twice is refused', async (t) => {
  const log: string[] = []
  await t.rejects(
    buildKronus(t, { dir: tempDir(t), config: { plugins: [tracer('twice', log), tracer('twice', log)] } }),
    {
      message: 'plugin "twice" is listed twice in plugins'
    }
  )
})

t.test('plugin routes live under /plugins/<name> and nowhere else', async (t) => {
  const greeter = definePlugin({
    name: 'greeter',
    version: '1.0.0',
    options: Joi.object({ greeting: Joi.string().default('hello') }),
    register(kronus, options) {
      t.equal(kronus.server.prefix, '/plugins/greeter')
      kronus.server.route({
        method: 'GET',
        path: '/hello',
        options: { auth: false, handler: () => ({ says: options.greeting }) }
      })
      kronus.server.route({ method: 'GET', path: '/private', handler: () => 'secret' })
    }
  })
  const kronus = await buildKronus(t, { config: { plugins: [greeter({ greeting: 'bonjour' })] } })
  const res = await kronus.server.inject('/plugins/greeter/hello')
  t.equal(res.statusCode, 200)
  t.same(JSON.parse(res.payload), { says: 'bonjour' })
  t.equal((await kronus.server.inject('/hello')).statusCode, 404, 'not at the root')
  t.equal(
    (await kronus.server.inject('/plugins/greeter/private')).statusCode,
    401,
    'routes need a token unless they say otherwise'
  )
})

t.test(
  'the context gives the plugin events, durable subscriptions, jobs, channels, facades and a logger, never models, services or knex',
  async (t) => {
    let context!: PluginContext
    const heard: number[] = []
    const durable: number[] = []
    const worked: number[] = []
    const channel = new RecordingChannel('plugin-sms')
    const everything = definePlugin({
      name: 'everything',
      version: '2.0.0',
      register(kronus) {
        context = kronus
        kronus.events.on('user.created', (payload) => {
          heard.push(payload.userId)
        })
        kronus.events.subscribe('welcome', 'user.created', async (event) => {
          durable.push(event.payload.userId)
          await kronus.messaging.send({ to: '+15550001111', text: `welcome ${event.payload.userId}` })
        })
        kronus.jobs.define('host-test.work', async ({ n }) => {
          worked.push(n)
        })
        kronus.messaging.registerChannel(channel)
      }
    })
    const kronus = await buildKronus(t, { config: { plugins: [everything()] } })
    t.equal(context.name, 'everything')
    t.equal(context.config, kronus.config)
    t.same(Object.keys(context).sort(), [
      'clock',
      'config',
      'contacts',
      'db',
      'events',
      'health',
      'jobs',
      'logger',
      'messaging',
      'metrics',
      'name',
      'probes',
      'queue',
      'schedules',
      'server',
      'users'
    ])
    for (const internal of ['models', 'services', 'knex']) t.notOk(internal in context, `no ${internal} in the context`)
    t.equal(typeof context.logger.info, 'function')
    t.same(context.logger.bindings(), { plugin: 'everything' }, 'log lines are tagged with the plugin')

    const user = await kronus.services.users.create(
      {
        first_name: 'A',
        last_name: 'B',
        email: 'a@example.com',
        phone_number: '+15550000020',
        password: 'pw-long-secret'
      },
      null
    )
    await context.jobs.enqueue('host-test.work', { n: 42 })
    await kronus.events.settled()
    await kronus.queue.drain()
    t.same(heard, [user.id])
    t.same(durable, [user.id])
    t.same(worked, [42])
    t.same(channel.sent, [{ to: '+15550001111', text: `welcome ${user.id}` }])
    const [job] = await kronus.knex('jobs').where({ name: 'events.deliver' })
    t.match(JSON.parse(job.payload), { subscriber: 'everything:welcome' }, 'the subscription is named after the plugin')
  }
)

t.test("a plugin emits its own declared events but not Kronus's", async (t) => {
  let context!: PluginContext
  const plugin = definePlugin({
    name: 'emitter',
    version: '1.0.0',
    events: ['emitter.done'],
    register(kronus) {
      context = kronus
    }
  })
  const kronus = await buildKronus(t, { config: { plugins: [plugin()] } })
  t.ok(kronus.events.isKnownType('emitter.done'), 'the declared event is known from start-up')
  await (context.events.emit as (type: string, payload: unknown) => Promise<void>)('emitter.done', { ok: true })
  t.same(
    (await kronus.events.list({ type: 'emitter.done' as never })).map((e) => e.payload),
    [{ ok: true }]
  )
  await t.rejects(
    (context.events.emit as (type: string, payload: unknown) => Promise<void>)('user.deleted', { userId: 1 }),
    /cannot emit "user.deleted": it is one of Kronus's own events/
  )
  t.same(await kronus.events.list({ type: 'user.deleted' }), [])
})

t.test('start and stop record server.started and server.stopping', async (t) => {
  const kronus = await buildKronus(t)
  await kronus.start()
  await kronus.stop('SIGTERM')
  const reopened = await buildKronus(t, { dir: kronus.dir, clock: kronus.clock })
  const events = await reopened.events.list()
  t.same(
    events.map((e) => e.type),
    ['server.started', 'server.stopping']
  )
  t.match(events[0]!.payload, { uri: /^http:\/\/127\.0\.0\.1:\d+$/ })
  t.same(events[1]!.payload, { reason: 'SIGTERM' })
})

t.test('a plugin serves absolute paths only where it declared them in publicPaths', async (t) => {
  const webhook = definePlugin({
    name: 'hooked',
    version: '1.0.0',
    publicPaths: ['/webhook/hooked'],
    register(kronus) {
      kronus.server.routePublic({
        method: 'POST',
        path: '/webhook/hooked',
        options: { auth: false, handler: () => ({ got: 'it' }) }
      })
    }
  })
  const kronus = await buildKronus(t, { config: { plugins: [webhook()] } })
  const res = await kronus.server.inject({ method: 'POST', url: '/webhook/hooked' })
  t.equal(res.statusCode, 200)
  t.same(res.result, { got: 'it' })

  const sneaky = definePlugin({
    name: 'sneaky',
    version: '1.0.0',
    publicPaths: ['/webhook/sneaky'],
    register(kronus) {
      kronus.server.routePublic({
        method: 'GET',
        path: '/v1/admin-backdoor',
        options: { auth: false, handler: () => 'x' }
      })
    }
  })
  await t.rejects(buildKronus(t, { config: { plugins: [sneaky()] } }), {
    message: /sneaky.*may not serve \/v1\/admin-backdoor/
  })

  const twin = definePlugin({ name: 'twin', version: '1.0.0', publicPaths: ['/webhook/hooked'], register() {} })
  await t.rejects(buildKronus(t, { config: { plugins: [webhook(), twin()] } }), {
    message: /twin.*\/webhook\/hooked.*hooked/
  })
  t.throws(
    () => definePlugin({ name: 'odd', version: '1', publicPaths: ['/plugins/other/x'], register() {} }),
    /invalid public path/
  )
})
