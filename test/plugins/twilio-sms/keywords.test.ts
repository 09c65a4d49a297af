import t from 'tap'
import { usageText } from '../../../plugins/sms-commands/commands.js'
import { keywordTexts, parseKeyword } from '../../../plugins/twilio-sms/keywords.js'
import type { TestKronus } from '../../helpers/app.js'
import { call, createAdmin, createContact, createUser, type TestUser } from '../../helpers/http.js'
import { buildSmsKronus, postSms } from './sms-kronus.js'

t.test('opt-out and opt-in keywords are recognised alone, in any case, with spaces around', async (t) => {
  for (const word of ['STOP', 'stop', ' Stop ', 'STOPALL', 'UNSUBSCRIBE', 'cancel', 'End', 'QUIT']) {
    t.same(parseKeyword(word), { kind: 'opt_out', word: word.trim().toUpperCase() }, word)
  }
  for (const word of ['START', 'start', 'UNSTOP'])
    t.same(parseKeyword(word), { kind: 'opt_in', word: word.toUpperCase() }, word)
  for (const text of ['stop it', 'please stop', 'YES', 'Y', 'N', 'help', '', 'stopp'])
    t.equal(parseKeyword(text), null, JSON.stringify(text))
})

async function userWithProbesOn(kronus: TestKronus): Promise<TestUser> {
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  await createContact(kronus, user, { is_emergency_contact: true })
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: true }
  })
  if (res.statusCode !== 200) throw new Error(res.payload)
  return user
}

async function active(kronus: TestKronus, userId: number): Promise<boolean> {
  return Boolean((await kronus.knex('probe_settings').where({ user_id: userId }).first()).active)
}

t.test("every opt-out word turns the user's probes off and records why", async (t) => {
  for (const word of ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']) {
    const { kronus } = await buildSmsKronus(t)
    const user = await userWithProbesOn(kronus)
    const reply = await postSms(kronus, { from: user.phone_number, body: word.toLowerCase(), messageSid: `SM${word}` })
    t.same(reply.messages, [keywordTexts.optedOut()], word)
    t.equal(await active(kronus, user.id), false, `${word}: probes off`)
    t.same(
      (await kronus.events.list({ type: 'twilio-sms.opted_out' })).map((e) => e.payload),
      [{ userId: user.id, keyword: word, messageId: `SM${word}` }],
      word
    )
    t.match(
      await kronus.events.list({ type: 'probe_settings.updated' }),
      [{}, { payload: { userId: user.id, active: false, nextFireAt: null } }],
      word
    )
  }
})

t.test('START says how to turn probes back on and turns nothing on by itself', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithProbesOn(kronus)
  await postSms(kronus, { from: user.phone_number, body: 'STOP' })
  const reply = await postSms(kronus, { from: user.phone_number, body: 'Start' })
  t.same(reply.messages, [keywordTexts.optedIn()])
  t.match(reply.messages[0], /turn them back on in Kronus/)
  t.equal(await active(kronus, user.id), false, 'probes stay off until the user turns them on')
  t.same(
    (await kronus.events.list({ type: 'twilio-sms.opted_in' })).map((e) => e.payload.keyword),
    ['START']
  )
})

t.test(
  'after STOP, ON and RESUME answer "START first" and change nothing; after START, ON turns check-ins on',
  async (t) => {
    const { kronus } = await buildSmsKronus(t)
    const user = await userWithProbesOn(kronus)
    await postSms(kronus, { from: user.phone_number, body: 'STOP' })
    for (const body of ['on', 'RESUME']) {
      const reply = await postSms(kronus, { from: user.phone_number, body })
      t.match(reply.messages, [/Text START first/], body)
      t.equal(await active(kronus, user.id), false, `${body}: check-ins stay off`)
    }
    await postSms(kronus, { from: user.phone_number, body: 'START' })
    const on = await postSms(kronus, { from: user.phone_number, body: 'On' })
    t.match(on.messages, [/^Your check-ins are back on\. Next check-in: /])
    t.equal(await active(kronus, user.id), true)
  }
)

t.test('HELP answers like usage', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithProbesOn(kronus)
  const help = await postSms(kronus, { from: user.phone_number, body: 'HELP' })
  const usage = await postSms(kronus, { from: user.phone_number, body: 'usage' })
  t.same(help.messages, [usageText()])
  t.same(usage.messages, help.messages)
  t.equal(await active(kronus, user.id), true, 'HELP changes nothing')
})

t.test('a text that only contains STOP is not an opt-out', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithProbesOn(kronus)
  await postSms(kronus, { from: user.phone_number, body: 'stop asking' })
  t.equal(await active(kronus, user.id), true)
  t.same(await kronus.events.list({ type: 'twilio-sms.opted_out' }), [])
})

t.test('carrier keywords belong to the Twilio channel: STOP through another channel is not an opt-out', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithProbesOn(kronus)
  const result = await kronus.messaging.receive({ from: user.phone_number, text: 'STOP', channel: 'signal' })
  t.same(result, { userId: user.id, reply: null })
  t.equal(await active(kronus, user.id), true)
})
