/** How batchOrEach runs a batch's items. */
export interface BatchOrEachOptions<T> {
  /** What makes two items the same (a user for fires, a probe for timers): one batch takes each at most once. */
  keyOf(item: T): number
  /** All the items at once, in one transaction of its own. */
  batch(items: T[]): Promise<unknown>
  /** One item on its own, as the batch would have run it. */
  each(item: T): Promise<unknown>
  /** Told when the batch failed as a whole, before its items are run one at a time. */
  onBatchFailed(err: unknown, items: number): void
}

/**
 * Runs items as one batch; an item whose key the batch already holds runs on its own
 * afterwards, where it finds the state the batch left. Should the batch fail as a whole (a
 * rival changed one of its rows in between, say), each item runs on its own instead, so one
 * cannot hold back the rest. Returns each item's outcome: undefined, or the error it failed with.
 */
export async function batchOrEach<T>(items: T[], options: BatchOrEachOptions<T>): Promise<unknown[]> {
  const seen = new Set<number>()
  const first: number[] = []
  const again: number[] = []
  items.forEach((item, i) => {
    const key = options.keyOf(item)
    if (seen.has(key)) again.push(i)
    else {
      seen.add(key)
      first.push(i)
    }
  })
  const outcomes: unknown[] = new Array(items.length).fill(undefined)
  try {
    await options.batch(first.map((i) => items[i]!))
  } catch (err) {
    options.onBatchFailed(err, first.length)
    again.unshift(...first)
  }
  for (const i of again) {
    try {
      await options.each(items[i]!)
    } catch (err) {
      outcomes[i] = err
    }
  }
  return outcomes
}
