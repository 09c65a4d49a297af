import { generateKeyPairSync } from 'node:crypto'
import { builtinPlugins } from '../../plugins/index.js'
import { createKronus, type Kronus } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import type { KronusConfig, KronusConfigInput } from '../../src/config/types.js'
import { CountingChannel } from './counting-channel.js'
import { type BenchDatabaseSpec, databaseConfig, PASSPHRASE } from './database.js'

export interface BenchKronus {
  kronus: Kronus
  channel: CountingChannel
}

/**
 * A Kronus as an operator would run it: system clock, the default job settings, logs at the default level (the case's stdout goes to a log file), listening
 * on a free loopback port. Texts go to a channel that only counts them. With `builtins`,
 * the plugins `kronus server` loads by default are loaded too (sms-commands,
 * emergency-contact, outbound-webhook; no twilio keys, so no twilio-sms), since their
 * durable subscriptions weigh on every event.
 */
export async function buildBenchKronus(
  spec: BenchDatabaseSpec,
  overrides: Pick<KronusConfigInput, 'jobs' | 'logging' | 'twilio'> = {},
  {
    builtins = false,
    plugins = [],
    publicUrl
  }: { builtins?: boolean; plugins?: KronusConfig['plugins']; publicUrl?: string } = {}
): Promise<BenchKronus> {
  const privateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString()
  // `npm run bench -- --concurrency N` tries another jobs.concurrency than the default.
  const concurrency = process.env.KRONUS_BENCH_CONCURRENCY ? Number(process.env.KRONUS_BENCH_CONCURRENCY) : undefined
  const config = resolveConfig({
    dataDir: spec.dir,
    kronus: {
      privateKeyPem,
      sqlite: { passPhrase: PASSPHRASE },
      listener: { port: 0, host: '127.0.0.1' },
      ...(publicUrl ? { publicUrl } : {})
    },
    database: databaseConfig(spec),
    ...overrides,
    jobs: { ...(concurrency ? { concurrency } : {}), ...overrides.jobs }
  })
  if (builtins) config.plugins = builtinPlugins(config)
  config.plugins = [...config.plugins, ...plugins]
  const kronus = await createKronus({ config, searchPath: spec.schema })
  const channel = new CountingChannel()
  kronus.messaging.registerChannel(channel, { default: true })
  return { kronus, channel }
}
