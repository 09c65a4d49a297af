import t from 'tap'
import { emptyTwimlReply, escapeXml, twimlMessages, twimlReply } from '../../../plugins/twilio-sms/twiml.js'

const DECL = '<?xml version="1.0" encoding="UTF-8"?>'

t.test('a reply wraps the text in <Response><Message>', async (t) => {
  t.equal(twimlReply('pong'), `${DECL}<Response><Message>pong</Message></Response>`)
})

t.test('markup characters and quotes in the text are escaped', async (t) => {
  t.equal(
    twimlReply(`a < b & "c" 'd' > e`),
    `${DECL}<Response><Message>a &lt; b &amp; &quot;c&quot; &apos;d&apos; &gt; e</Message></Response>`
  )
  t.equal(
    escapeXml('</Message><Redirect>https://evil</Redirect>'),
    '&lt;/Message&gt;&lt;Redirect&gt;https://evil&lt;/Redirect&gt;'
  )
  t.equal(escapeXml('&amp;'), '&amp;amp;', 'already-escaped text is escaped again, so it reads as typed')
})

t.test('characters XML cannot carry are dropped; unicode and newlines stay', async (t) => {
  t.equal(escapeXml('ok\u0000\u0007\nnext ✓ 😀'), 'ok\nnext ✓ 😀')
})

t.test('no text gives an empty <Response/>', async (t) => {
  t.equal(emptyTwimlReply(), `${DECL}<Response/>`)
  t.equal(twimlReply(), `${DECL}<Response/>`)
  t.equal(twimlReply(''), `${DECL}<Response/>`, 'an empty <Message> would make Twilio log an error')
})

t.test('several texts become several messages, in order', async (t) => {
  t.equal(twimlReply('one', 'two'), `${DECL}<Response><Message>one</Message><Message>two</Message></Response>`)
})

t.test('twimlMessages reads back the texts of a reply, as kronus sms prints them', async (t) => {
  t.same(twimlMessages(twimlReply('Thanks Ada, glad you are OK.', 'Reply <OK 42> & "SAFE 42"')), [
    'Thanks Ada, glad you are OK.',
    'Reply <OK 42> & "SAFE 42"'
  ])
  t.same(twimlMessages(emptyTwimlReply()), [], 'an empty <Response/> has none')
})
