/*
 * One benchmark case, in a process of its own: memory and CPU figures are this case's
 * alone, and nothing one case leaves behind (pools, timers, heap) weighs on the next.
 * Started by lib/child.ts with the case as JSON in argv; answers over IPC.
 */
import type { BenchDatabaseSpec } from './lib/database.js'
import type { CaseMessage, ResultRow } from './lib/result.js'
import { fanoutCase, type FanoutParams } from './fanout.js'

export type CaseRequest = { bench: 'fanout'; db: BenchDatabaseSpec; params: FanoutParams }

function send(message: CaseMessage): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, (err: Error | null) => (err ? reject(err) : resolve())))
}

async function run(request: CaseRequest): Promise<ResultRow[]> {
  switch (request.bench) {
    case 'fanout':
      return fanoutCase(request.db, request.params)
  }
}

const request = JSON.parse(process.argv[2]!) as CaseRequest
try {
  const rows = await run(request)
  await send({ type: 'rows', rows })
  process.exit(0)
} catch (err) {
  console.error(err)
  process.exit(1)
}
