import t from 'tap'
import { distinctRounds, inDistinctRounds } from '../../src/util/distinct-rounds.js'

t.test('each round holds a key once, and a key keeps its order across rounds', async (t) => {
  const texts = [
    { phone: 'a', n: 1 },
    { phone: 'b', n: 2 },
    { phone: 'a', n: 3 },
    { phone: 'c', n: 4 },
    { phone: 'a', n: 5 },
    { phone: 'b', n: 6 }
  ]
  t.same(
    distinctRounds(texts, (x) => x.phone).map((round) => round.map((x) => x.n)),
    [[1, 2, 4], [3, 6], [5]]
  )
})

t.test('items of different keys are one round; no items, no rounds', async (t) => {
  t.same(
    distinctRounds([1, 2, 3], (x) => x),
    [[1, 2, 3]]
  )
  t.same(
    distinctRounds([], (x) => x),
    []
  )
})

t.test('inDistinctRounds runs round after round and gives each item its result in the given order', async (t) => {
  const seen: string[][] = []
  const results = await inDistinctRounds(
    ['a1', 'b1', 'a2', 'c1', 'a3'],
    (x) => x[0],
    async (round) => {
      seen.push(round)
      return round.map((x) => `${x} in round ${seen.length}`)
    }
  )
  t.same(seen, [['a1', 'b1', 'c1'], ['a2'], ['a3']])
  t.same(results, ['a1 in round 1', 'b1 in round 1', 'a2 in round 2', 'c1 in round 1', 'a3 in round 3'])
})
