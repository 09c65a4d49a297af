import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { createKronus, type Kronus } from '../../src/app.js'
import { FakeClock } from '../../src/clock.js'
import { resolveConfig } from '../../src/config/resolve.js'
import type { KronusConfigInput } from '../../src/config/types.js'
import { testPrivateKeyPem } from './keys.js'

export interface TestKronus extends Kronus {
  clock: FakeClock
  dir: string
}

export interface TestKronusOptions {
  /** Reuse a data folder (to test restarts); a fresh temp folder otherwise. */
  dir?: string
  config?: KronusConfigInput
  clock?: FakeClock
}

interface Tap {
  teardown(fn: () => unknown): void
}

/**
 * A Kronus on a fresh encrypted database in a temp folder, with a fake clock and silent
 * logs. It is stopped and its folder removed when the test ends.
 */
export async function buildKronus(t: Tap, options: TestKronusOptions = {}): Promise<TestKronus> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kronus-test-'))
  const clock = options.clock ?? new FakeClock()
  const input = options.config ?? {}
  const config = resolveConfig({
    ...input,
    dataDir: dir,
    kronus: {
      ...input.kronus,
      privateKeyPem: input.kronus?.privateKeyPem ?? testPrivateKeyPem(),
      sqlite: { passPhrase: input.kronus?.sqlite?.passPhrase ?? 'test-passphrase' },
      listener: { port: 0, host: '127.0.0.1', ...input.kronus?.listener }
    },
    logging: { level: 'silent', ...input.logging }
  })
  const kronus = await createKronus({ config, clock, logger: pino({ level: 'silent' }) })
  t.teardown(async () => {
    await kronus.stop()
    if (!options.dir) rmSync(dir, { recursive: true, force: true })
  })
  return Object.assign(kronus, { clock, dir })
}
