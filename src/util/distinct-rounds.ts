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
