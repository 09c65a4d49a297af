/*
 * One benchmark case, in a process of its own: memory and CPU figures are this case's
 * alone, and nothing one case leaves behind (pools, timers, heap) weighs on the next.
 * Started by lib/child.ts with the case as JSON in argv; answers over IPC.
 */

import { limitHeapGrowth } from '../src/cli/heap-growth.js'
import { type AlarmParams, alarmCase } from './alarm.js'
import { type ApiParams, apiCase } from './api.js'
import { type DeliveriesParams, deliveriesCase } from './deliveries.js'
import { type FanoutParams, fanoutCase } from './fanout.js'
import { type FollowUpsParams, followUpsCase } from './follow-ups.js'
import { type IdleParams, idleCase } from './idle.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import type { CaseMessage, RunnerMessage } from './lib/result.js'
import { type SeedOptions, seedUsers } from './lib/seed.js'
import { type QueueParams, queueCase } from './queue.js'
import { type RepliesParams, repliesCase } from './replies.js'
import { type ServerRssParams, serverRssCase } from './server-rss.js'

export type CaseRequest =
  | { bench: 'fanout'; db: BenchDatabaseSpec; params: FanoutParams }
  | { bench: 'follow-ups'; db: BenchDatabaseSpec; params: FollowUpsParams }
  | { bench: 'replies'; db: BenchDatabaseSpec; params: RepliesParams }
  | { bench: 'deliveries'; db: BenchDatabaseSpec; params: DeliveriesParams }
  | { bench: 'queue'; db: BenchDatabaseSpec; params: QueueParams }
  | { bench: 'api'; db: BenchDatabaseSpec | null; params: ApiParams }
  | { bench: 'idle'; db: BenchDatabaseSpec; params: IdleParams }
  | { bench: 'alarm'; db: BenchDatabaseSpec; params: AlarmParams }
  | { bench: 'rss'; db: BenchDatabaseSpec; params: ServerRssParams }
  | { bench: 'seed'; db: BenchDatabaseSpec; params: SeedOptions }

function send(message: CaseMessage): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(message, (err: Error | null) => (err ? reject(err) : resolve()))
  )
}

/** Tells the runner where to send load, and returns when it says it is done. */
async function serveUntilFinished(target: { url: string; headers: Record<string, string> }): Promise<void> {
  const finished = new Promise<void>((resolve) =>
    process.on('message', (message: RunnerMessage) => {
      if (message.type === 'finish') resolve()
    })
  )
  await send({ type: 'ready', ...target })
  await finished
}

/** Creates the database (migrated by a Kronus that is never started) and seeds its users. */
async function seedCase(spec: BenchDatabaseSpec, options: SeedOptions): Promise<null> {
  const { kronus } = await buildBenchKronus(spec)
  try {
    await seedUsers(kronus.knex, options)
  } finally {
    await kronus.stop('seeded')
  }
  return null
}

async function run(request: CaseRequest): Promise<unknown> {
  switch (request.bench) {
    case 'fanout':
      return fanoutCase(request.db, request.params)
    case 'follow-ups':
      return followUpsCase(request.db, request.params)
    case 'replies':
      return repliesCase(request.db, request.params)
    case 'deliveries':
      return deliveriesCase(request.db, request.params)
    case 'queue':
      return queueCase(request.db, request.params)
    case 'api':
      return apiCase(request.db, request.params, serveUntilFinished).then(() => null)
    case 'idle':
      return idleCase(request.db, request.params)
    case 'alarm':
      return alarmCase(request.db, request.params)
    case 'rss':
      return serverRssCase(request.db, request.params)
    case 'seed':
      return seedCase(request.db, request.params)
  }
}

// As `kronus server` does (src/cli/commands/server.ts), so a case's memory is the daemon's.
limitHeapGrowth()
const request = JSON.parse(process.argv[2]!) as CaseRequest
try {
  const result = await run(request)
  await send({ type: 'result', result })
  process.exit(0)
} catch (err) {
  console.error(err)
  process.exit(1)
}
