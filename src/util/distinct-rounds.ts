/**
 * Splits items into rounds in which no key comes twice, keeping their order: an item
 * whose key an earlier item of its round holds goes to the next round. Taken round after
 * round, a key's items are taken in the order given, and each round can be one batch.
 */
export function distinctRounds<T>(items: T[], keyOf: (item: T) => unknown): T[][] {
  const rounds: T[][] = []
  const lastRoundOf = new Map<unknown, number>()
  for (const item of items) {
    const key = keyOf(item)
    const at = (lastRoundOf.get(key) ?? -1) + 1
    if (at === rounds.length) rounds.push([])
    rounds[at]!.push(item)
    lastRoundOf.set(key, at)
  }
  return rounds
}

/**
 * Runs `run` on each round of distinctRounds, one after the other, and returns its
 * results in the order of `items`: a batch in which a key's later item sees what its
 * earlier one did.
 */
export async function inDistinctRounds<T, R>(
  items: T[],
  keyOf: (item: T) => unknown,
  run: (round: T[]) => Promise<R[]>
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  const indexed = items.map((item, at) => ({ item, at }))
  for (const round of distinctRounds(indexed, ({ item }) => keyOf(item))) {
    const done = await run(round.map(({ item }) => item))
    round.forEach(({ at }, i) => {
      results[at] = done[i]!
    })
  }
  return results
}
