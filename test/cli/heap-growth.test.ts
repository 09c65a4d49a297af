import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { HEAP_GROWTH_PERCENT } from '../../src/cli/heap-growth.js'
import { heapLimitFactors, REPO } from './run-kronus.js'

const MODULE = pathToFileURL(join(REPO, 'src', 'cli', 'heap-growth.ts')).href

/** The factor of the last heap limit V8 set in a node process that calls limitHeapGrowth() and then collects. */
function factorAfterLimit(nodeFlags: string[]): number {
  const script = `import { limitHeapGrowth } from ${JSON.stringify(MODULE)}\nlimitHeapGrowth()\nglobalThis.gc()\n`
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', '--trace-gc-verbose', ...nodeFlags, '--input-type=module', '-e', script],
    { cwd: REPO, encoding: 'utf8' }
  )
  if (run.status !== 0) throw new Error(`the node process failed: ${run.stderr}`)
  const factors = heapLimitFactors(run.stdout)
  if (factors.length === 0) throw new Error(`no collection was traced:\n${run.stdout.slice(0, 2000)}`)
  return factors.at(-1)!
}

t.test("kronus server's heap grows by half of what a collection kept, not by V8's own factor of up to 4", async (t) => {
  t.equal(
    factorAfterLimit([]),
    1 + HEAP_GROWTH_PERCENT / 100,
    'the collection after the call set the next limit at 1.5× the live heap'
  )
})

t.test("an operator's own --heap-growing-percent stands", async (t) => {
  t.equal(factorAfterLimit(['--heap-growing-percent=200']), 3)
})
