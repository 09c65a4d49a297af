import t from 'tap'
import { parseReply } from '../../src/probes/replies.js'

t.test("the seed's yes words mean good, whatever the case and surrounding spaces", async (t) => {
  for (const text of ['yes', 'yeah', 'yh', 'y', 'Y', 'YES', ' Yeah ', '\tyh\n', 'yEs'])
    t.equal(parseReply(text), 'good', JSON.stringify(text))
})

t.test("the seed's no words mean bad, whatever the case and surrounding spaces", async (t) => {
  for (const text of ['no', 'nope', 'nah', 'na', 'n', 'N', 'NO', ' Nope ', '\nnah\t'])
    t.equal(parseReply(text), 'bad', JSON.stringify(text))
})

t.test('natural yes and no with punctuation are understood (issue 14)', async (t) => {
  for (const text of ['yes!', 'ok', 'I am fine']) t.equal(parseReply(text), 'good', JSON.stringify(text))
  for (const text of ['no.', 'No!']) t.equal(parseReply(text), 'bad', JSON.stringify(text))
})

t.test('anything else is not understood, so it is never guessed at', async (t) => {
  for (const text of ['', ' ', 'maybe', 'y y', 'yess', 'y n', 'nn', 'not really']) {
    t.equal(parseReply(text), null, JSON.stringify(text))
  }
})
