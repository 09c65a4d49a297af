import t from 'tap'
import { distinctRounds } from '../../src/util/distinct-rounds.js'

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
