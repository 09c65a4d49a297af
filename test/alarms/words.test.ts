import t from 'tap'
import { classifyReply, isOptOut, parseReply, type ReplyKind } from '../../src/probes/replies.js'

/** Every phrase the issue names, and their case and punctuation variants. */
const TABLE: Array<[string, ReplyKind]> = [
  // N and its variants: a plain no.
  ['N', 'bad'],
  ['n', 'bad'],
  ['no', 'bad'],
  ['No.', 'bad'],
  ['NO!', 'bad'],
  ['nope', 'bad'],
  ['nah', 'bad'],
  ['na', 'bad'],
  [' Nope ', 'bad'],
  // Distress words and phrases, case and punctuation free.
  ['help', 'distress'],
  ['Help!', 'distress'],
  ['HELP', 'distress'],
  ['emergency', 'distress'],
  ['Emergency!!', 'distress'],
  ['not ok', 'distress'],
  ['Not OK', 'distress'],
  ["I'm not OK", 'distress'],
  ['im not ok', 'distress'],
  ['I’m not okay.', 'distress'],
  ['no I am not ok', 'distress'],
  ["No, I'm not OK", 'distress'],
  ['not fine', 'distress'],
  ['hurt', 'distress'],
  ["I'm hurt", 'distress'],
  ['fell', 'distress'],
  ['I fell', 'distress'],
  ['i fell.', 'distress'],
  ['ambulance', 'distress'],
  ['call 911', 'distress'],
  ['Call 911!', 'distress'],
  ['please help, I fell', 'distress'],
  // Panic: an alarm at any time.
  ['SOS', 'panic'],
  ['sos', 'panic'],
  ['S.O.S', 'panic'],
  ['HELP ME', 'panic'],
  ['help me!', 'panic'],
  ['Help me.', 'panic'],
  ['911', 'panic'],
  ['911!', 'panic'],
  // Natural yes.
  ['Y', 'good'],
  ['y', 'good'],
  ['yes', 'good'],
  ['yes.', 'good'],
  ['Yes!', 'good'],
  ['yep', 'good'],
  ['yeah', 'good'],
  ['yh', 'good'],
  ['ok', 'good'],
  ['OK', 'good'],
  ['okay', 'good'],
  ['Okay.', 'good'],
  ['fine', 'good'],
  ["I'm ok", 'good'],
  ['Im OK', 'good'],
  ['i am fine', 'good'],
  ['all good', 'good'],
  ['All good!', 'good'],
  ['👍', 'good'],
  ['👍🏽', 'good'],
  // Anything else is never guessed at.
  ['', 'none'],
  ['maybe', 'none'],
  ['what?', 'none'],
  ['ping', 'none'],
  ['no I am fine', 'none'],
  ['y n', 'none'],
  ['probe --in 5', 'none']
]

t.test('every phrase of the issue means what it says', async (t) => {
  for (const [text, kind] of TABLE) t.equal(classifyReply(text), kind, JSON.stringify(text))
})

t.test('a negation always wins over a yes word: never good', async (t) => {
  for (const text of ['not ok', 'not fine', "no I'm not ok", 'not okay', 'Not good', "I'm not fine", 'no im ok'])
    t.not(classifyReply(text), 'good', JSON.stringify(text))
})

t.test('as an answer to a check-in: distress and panic are a no, yes is good', async (t) => {
  t.equal(parseReply('help'), 'bad')
  t.equal(parseReply('SOS'), 'bad')
  t.equal(parseReply('No.'), 'bad')
  t.equal(parseReply('👍'), 'good')
  t.equal(parseReply('maybe'), null)
})

t.test('opt-out keywords alone', async (t) => {
  for (const text of ['STOP', 'stop', ' Stop ', 'unsubscribe', 'quit']) t.ok(isOptOut(text), text)
  for (const text of ['stop it', 'please stop', 'stopp']) t.notOk(isOptOut(text), text)
})
