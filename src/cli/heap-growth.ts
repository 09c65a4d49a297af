import { setFlagsFromString } from 'node:v8'

/**
 * How far V8 lets `kronus server`'s heap grow past what its last major collection kept
 * before it collects again, in percent: 50 sets the next limit at 1.5× the live heap.
 *
 * V8 picks that factor itself, up to 4×, from how fast it collected and allocated in the
 * last few seconds. A daemon whose live heap is 30–40 MiB then lets a burst of work (a
 * 100k-user fan-out) run its heap to 120–140 MiB of garbage before collecting, in some runs
 * and not others: the peak RSS swung between 160 and 250 MiB from one run to the next on
 * the same machine (docs/BENCHMARKS.md). At 1.5× the heap is collected sooner and the peak
 * stays near 160 MiB, for a few more major collections and no measurable loss of speed.
 * This is not a cap: the heap still grows as far as the data it keeps needs.
 */
export const HEAP_GROWTH_PERCENT = 50

const GROWTH_FLAG = '--heap-growing-percent'

/**
 * Sets V8's heap growth to HEAP_GROWTH_PERCENT, unless node was started with its own
 * `--heap-growing-percent` (`node --heap-growing-percent=100 bin/kronus.js server`), which
 * then stands. V8 reads the setting at each collection, so it holds from the next one on.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): void {
  if (execArgv.some((arg) => arg === GROWTH_FLAG || arg.startsWith(`${GROWTH_FLAG}=`))) return
  setFlagsFromString(`${GROWTH_FLAG}=${HEAP_GROWTH_PERCENT}`)
}
