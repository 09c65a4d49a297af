import t from 'tap'
import { accepted, adaWithTwoContacts, type Scenario, type ScenarioUser } from './harness.js'

/*
 * The duress word (issue 15, point 3), end to end through the real plugins and the fake
 * Twilio: replying with it to a check-in answers exactly like Y, and raises an alarm
 * (trigger duress) whose alerts tell the contacts not to give it away; nothing about it
 * is ever sent to the user, however the alarm goes on (receipts, reminders, the end of
 * the steps, an acknowledgement, the all-clear).
 */

const WORD = 'blue heron'
const ASK = 'Are you OK Ada? Reply Y or N.'
const GLAD = 'Thanks Ada, glad you are OK.'

async function setDuressWord(s: Scenario, user: ScenarioUser, word: string): Promise<void> {
  const res = await s.api({
    method: 'PUT',
    url: `/v1/users/${user.id}/escalation`,
    token: user.token,
    payload: { duress_word: word }
  })
  if (res.statusCode !== 200) throw new Error(`duress word: ${res.statusCode} ${res.payload}`)
}

t.test('the duress word answers exactly like Y; the contacts are alerted; the user never hears of it', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await setDuressWord(s, ada, WORD)
  await s.checkInTime()
  await s.advance(2)
  t.same(await s.text(ada, 'Blue Heron!'), [GLAD], 'the same answer a Y gets (case and punctuation as for any reply)')
  await s.settle()
  t.equal(await s.probeStatus(ada), 'good', 'the check-in ended good, as for a Y')

  const [alarm] = await s.alarmRows(ada)
  t.equal(alarm?.trigger, 'duress')
  t.equal(alarm?.quote, null, 'the word is never quoted')
  for (const contact of [mary, charles]) {
    const alerts = s.texts(contact)
    t.equal(alerts.length, 1, `${contact.first_name} alerted at once`)
    t.match(alerts[0]?.body, /Ada used their duress word in reply to Kronus/)
    t.match(alerts[0]?.body, /Do not call or text them about Kronus/)
    t.match(alerts[0]?.body, /Kronus has told them nothing/)
    t.notMatch(alerts[0]?.body, /heron/i, 'the alert does not give the word away')
    t.match(alerts[0]?.body, /Reply OK \d+/, 'and says how to answer')
  }

  // Receipts (which tell the user whom Kronus reached after other alarms), then every step
  // and reminder until the steps run out.
  t.ok(accepted(await s.receipt(mary, 'delivered')))
  t.ok(accepted(await s.receipt(charles, 'undelivered', 30003)))
  await s.advance(60)
  t.match(s.texts(mary).at(-1)?.body, /nobody has confirmed/, 'the steps ran out for the contacts')
  t.match(s.texts(mary).at(-1)?.body, /Do not call or text them about Kronus/, 'every reminder keeps the advice')

  // Mary acknowledges, then says Ada is safe.
  const code = s.codeFor(mary)
  t.match((await s.text(mary, `OK ${code}`)).join(' '), /Thank you Mary/)
  t.match((await s.text(mary, `SAFE ${code}`)).join(' '), /Thank you Mary/)
  await s.settle()
  t.equal((await s.alarmRows(ada))[0]?.status, 'resolved')

  t.same(s.said(ada), [ASK, GLAD], 'Ada heard the check-in and the Y answer, and nothing else, ever')
})

t.test('a user reading their own alarms does not see a duress alarm; an admin does', async (t) => {
  const { s, ada } = await adaWithTwoContacts(t)
  await setDuressWord(s, ada, WORD)
  await s.checkInTime()
  await s.text(ada, WORD)
  await s.settle()
  t.same(await s.alarms(ada), [], "Ada's own list")
  const byAdmin = await s.api({ url: `/v1/users/${ada.id}/alarms`, token: s.admin.token })
  t.same(
    byAdmin.body.data.map((a: any) => a.trigger),
    ['duress'],
    "the admin sees it in Ada's list"
  )
  const all = await s.api({ url: '/v1/alarms', token: s.admin.token })
  t.ok(
    all.body.data.some((a: any) => a.trigger === 'duress'),
    'and in the list of all alarms'
  )
})

t.test(
  "with nothing waiting, the duress word raises the silent alarm and is answered as any text Kronus doesn't read",
  async (t) => {
    const { s, ada, mary } = await adaWithTwoContacts(t)
    await setDuressWord(s, ada, WORD)
    await s.settle()
    const ordinary = await s.text(ada, 'grey heron')
    const duress = await s.text(ada, WORD)
    t.same(duress, ordinary, 'the same answer as another word Kronus does not read')
    await s.settle()
    t.equal((await s.alarmRows(ada))[0]?.trigger, 'duress')
    t.match(s.texts(mary)[0]?.body, /used their duress word/)

    // Made to text OK: it does not end the alarm (nor does Ada hear of one).
    const okWhileOpen = await s.text(ada, 'OK')
    t.equal((await s.alarmRows(ada))[0]?.status, 'open', "the user's own OK does not end a duress alarm")
    t.notMatch(okWhileOpen.join(' '), /alarm|contacts|alert/i, 'and is not answered as if an alarm were open')
    await s.advance(60)
    t.same(s.said(ada), [...ordinary, ...duress, ...okWhileOpen], 'Ada heard only the answers to her own texts')
  }
)

t.test('a duress word while another alarm is open tells the contacts already alerted', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await setDuressWord(s, ada, WORD)
  await s.settle()
  t.same(await s.text(ada, 'SOS'), ['We are alerting your emergency contacts now.'])
  await s.settle()
  t.same(await s.text(ada, WORD), [], 'no answer about it')
  await s.settle()
  for (const contact of [mary, charles]) {
    t.match(s.texts(contact).at(-1)?.body, /used their duress word/, `${contact.first_name} is told of the duress word`)
  }
  const heard = s.said(ada)
  t.equal(heard[0], 'We are alerting your emergency contacts now.')
  t.notMatch(heard.join(' '), /duress/i, 'Ada hears about her own SOS alarm only, never of the duress word')
})
