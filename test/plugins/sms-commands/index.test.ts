import t from 'tap'
import { usageText } from '../../../plugins/sms-commands/commands.js'
import { smsCommands } from '../../../plugins/sms-commands/index.js'
import { buildKronus, type TestKronus } from '../../helpers/app.js'
import { createAdmin, createContact, createUser, type TestUser } from '../../helpers/http.js'
import { RecordingChannel } from '../../helpers/recording-channel.js'

const MINUTE = 60_000

interface Setup {
  kronus: TestKronus
  channel: RecordingChannel
  user: TestUser
}

async function setUp(
  t: Parameters<typeof buildKronus>[0],
  options: { emergencyContact?: boolean; dailyLimit?: number; textsPerUserPerDay?: number } = {}
): Promise<Setup> {
  const kronus = await buildKronus(t, {
    config: {
      plugins: [smsCommands()],
      probes: { onDemandDailyLimit: options.dailyLimit ?? 10 },
      limits: { textsPerUserPerDay: options.textsPerUserPerDay ?? 30 }
    }
  })
  const channel = new RecordingChannel()
  kronus.messaging.registerChannel(channel)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin, { first_name: 'Alan' })
  if (options.emergencyContact !== false) await createContact(kronus, user, { is_emergency_contact: true })
  return { kronus, channel, user }
}

async function text(s: Setup, body: string): Promise<string | null> {
  const result = await s.kronus.messaging.receive({
    from: s.user.phone_number,
    text: body,
    channel: 'sms',
    messageId: null
  })
  return result.reply
}

function textsTo(s: Setup): string[] {
  return s.channel.sent.filter((m) => m.to === s.user.phone_number).map((m) => m.text)
}

async function probesOf(
  s: Setup
): Promise<Array<{ status: number; max_retries: number; wait_time_in_minutes: number; origin: string }>> {
  return (await s.kronus.knex('probes').where({ user_id: s.user.id }).orderBy('id')).map((r: any) => ({
    status: Number(r.probe_status_id),
    max_retries: Number(r.max_retries),
    wait_time_in_minutes: Number(r.wait_time_in_minutes),
    origin: r.origin
  }))
}

/** On-demand check-ins charged to the user: requests not merged into a waiting one. */
async function allowanceTaken(s: Setup): Promise<number> {
  const rows = await s.kronus.knex('on_demand_requests').where({ user_id: s.user.id }).whereNull('merged_at')
  return rows.length
}

t.test('ping, usage, help and <command> --help, in any case', async (t) => {
  const s = await setUp(t)
  t.equal(await text(s, 'ping'), 'PONG!')
  t.equal(await text(s, ' PiNg '), 'PONG!')
  t.equal(await text(s, 'usage'), usageText())
  t.equal(await text(s, 'HELP'), usageText())
  t.match(await text(s, 'Probe --Help'), /^probe \[--in N\] \[--retries N\] \[--wait N\]: /)
  t.match(await text(s, 'ping --help'), /^ping: /)
  t.equal(
    (await s.kronus.events.list({ type: 'message.received' })).length,
    6,
    'each command is still a recorded inbound text'
  )
  t.same(await probesOf(s), [], 'no command started anything')
})

t.test('probe with no flags checks in 5 minutes, with 3 follow-ups 10 minutes apart', async (t) => {
  const s = await setUp(t)
  t.equal(
    await text(s, 'probe'),
    'OK: Kronus will check on you in 5 minutes, with up to 3 follow-ups 10 minutes apart.'
  )
  await s.kronus.queue.drain()
  t.same(textsTo(s), [], 'not yet')
  s.kronus.clock.advance(5 * MINUTE)
  await s.kronus.queue.drain()
  t.same(textsTo(s), ['Are you OK Alan? Reply Y or N.'])
  t.same(await probesOf(s), [{ status: 1, max_retries: 3, wait_time_in_minutes: 10, origin: 'on_demand' }])
  s.kronus.clock.advance(10 * MINUTE)
  await s.kronus.queue.drain()
  t.equal(textsTo(s).length, 2, 'the first follow-up 10 minutes later')
})

t.test('probe --in 0 starts now; with --retries 0 it ends unavailable after --wait', async (t) => {
  const s = await setUp(t)
  t.equal(await text(s, 'PROBE --in 0 --retries 0 --wait 5'), 'OK: Kronus will check on you now, with no follow-up.')
  await s.kronus.queue.drain()
  t.same(textsTo(s), ['Are you OK Alan? Reply Y or N.'])
  s.kronus.clock.advance(5 * MINUTE)
  await s.kronus.queue.drain()
  t.same(await probesOf(s), [{ status: 4, max_retries: 0, wait_time_in_minutes: 5, origin: 'on_demand' }])
  t.match(await s.kronus.events.list({ type: 'emergency.triggered' }), [
    { payload: { userId: s.user.id, status: 'unavailable' } }
  ])
})

t.test('a bad flag is answered with what is wrong and starts nothing', async (t) => {
  const s = await setUp(t)
  t.equal(
    await text(s, 'probe --in 2000'),
    '--in takes the minutes until the check-in (0 means now): a whole number from 0 to 1440, not "2000".'
  )
  t.equal(
    await text(s, 'probe --retries 9'),
    '--retries takes the number of follow-ups if you do not answer: a whole number from 0 to 6, not "9".'
  )
  t.equal(
    await text(s, 'probe --wait 1'),
    '--wait takes the minutes between follow-ups: a whole number from 5 to 120, not "1".'
  )
  t.equal(await text(s, 'probe --soon'), 'probe has no flag --soon. Text "probe --help" to see how to use it.')
  s.kronus.clock.advance(60 * MINUTE)
  await s.kronus.queue.drain()
  t.same(await probesOf(s), [])
  t.equal(await allowanceTaken(s), 0)
})

t.test('probe needs an emergency contact; the refusal costs no daily allowance', async (t) => {
  const s = await setUp(t, { emergencyContact: false })
  t.equal(
    await text(s, 'probe --in 0'),
    'Kronus needs an emergency contact before it can check on you. Add one in Kronus first.'
  )
  t.same(await probesOf(s), [])
  t.equal(await allowanceTaken(s), 0)
  await createContact(s.kronus, s.user, { is_emergency_contact: true })
  t.match(await text(s, 'probe --in 0'), /^OK: /)
  t.equal(await allowanceTaken(s), 1)
})

t.test('a probe while one is pending is refused without using the allowance', async (t) => {
  const s = await setUp(t)
  await text(s, 'probe --in 0')
  t.equal(await text(s, 'probe --in 0'), 'A check-in is already waiting for your answer: reply Y or N to it first.')
  t.equal(await allowanceTaken(s), 1)
  t.equal((await probesOf(s)).length, 1)
})

t.test('the daily cap of on-demand probes applies', async (t) => {
  const s = await setUp(t, { dailyLimit: 2 })
  t.match(await text(s, 'probe --in 10'), /^OK: /)
  t.match(await text(s, 'probe --in 30'), /^OK: /)
  t.equal(
    await text(s, 'probe --in 60'),
    'You have asked for 2 check-ins in the last 24 hours, the most allowed. You can ask again in 24 hours.'
  )
  t.equal(await allowanceTaken(s), 2)
})

t.test('probe --in 1 twice while a check-in waits: told the truth, one check-in, one charged', async (t) => {
  const s = await setUp(t)
  t.match(await text(s, 'probe --in 0'), /^OK: Kronus will check on you now/)
  const waiting =
    'A check-in is already waiting for your answer: reply Y or N to it. If it still waits in 1 minute, ' +
    'this request will be added to it and not counted; otherwise Kronus will check on you then, ' +
    'with up to 3 follow-ups 10 minutes apart.'
  t.equal(await text(s, 'probe --in 1'), waiting)
  t.equal(
    await text(s, 'probe --in 1'),
    'You already asked for a check-in in 1 minute; this request was added to it and not counted.',
    'the second --in 1 is added to the first'
  )
  t.equal(await allowanceTaken(s), 2, 'the check-in now and the first --in 1')
  s.kronus.clock.advance(MINUTE)
  await s.kronus.queue.drain()
  t.equal((await probesOf(s)).length, 1, 'no second check-in started')
  t.same(textsTo(s), ['Are you OK Alan? Reply Y or N.'], 'asked once')
  t.equal(await allowanceTaken(s), 1, 'the merged request was given back')
  t.equal(await text(s, 'Y'), 'Thanks Alan, glad you are OK.')
})

t.test('a delayed probe whose check-in was answered meanwhile starts as asked', async (t) => {
  const s = await setUp(t)
  await text(s, 'probe --in 0')
  await text(s, 'probe --in 5')
  await text(s, 'Y')
  s.kronus.clock.advance(5 * MINUTE)
  await s.kronus.queue.drain()
  t.same(
    (await probesOf(s)).map((p) => p.status),
    [2, 1],
    'the first answered, the second asked'
  )
  t.equal(await allowanceTaken(s), 2)
})

t.test("over the user's text allowance, commands do nothing and are not answered", async (t) => {
  const s = await setUp(t, { textsPerUserPerDay: 4 })
  // The emergency contact's invitation is the first of the user's four texts.
  t.equal(await s.kronus.messaging.textsLeft(s.user.id), 3)
  t.equal(await text(s, 'ping'), 'PONG!')
  t.equal(await text(s, 'ping'), 'PONG!')
  t.equal(await text(s, 'ping'), 'PONG!')
  t.equal(await text(s, 'ping'), null, 'a fourth reply would be the fifth text, over 4')
  t.equal(await text(s, 'usage'), null)
  t.equal(await text(s, 'probe --in 0'), null)
  t.same(await probesOf(s), [], 'the refused probe command started nothing')
  t.equal(await allowanceTaken(s), 0, 'and charged nothing')
  t.equal((await s.kronus.events.list({ type: 'message.received' })).length, 6, 'every text is still recorded')
  t.match(await s.kronus.events.list({ type: 'limit.reached' }), [
    { payload: { limit: 'texts_per_user_per_day', userId: s.user.id, max: 4, refused: true } }
  ])
  t.equal((await s.kronus.events.list({ type: 'limit.reached' })).length, 1, 'raised once, not per refused text')
  // Texts stop counting 24 hours after they were queued (by the hour).
  s.kronus.clock.advance(23 * 60 * MINUTE)
  t.equal(await text(s, 'ping'), null, 'still within 24 hours')
  s.kronus.clock.advance(60 * MINUTE)
  t.equal(await text(s, 'ping'), 'PONG!', 'the rolling 24 hours have passed')
})

t.test('a text that is no command is the answer to the pending probe', async (t) => {
  const s = await setUp(t)
  await text(s, 'probe --in 0')
  t.equal(await text(s, 'not sure'), 'Reply Y if you are OK or N if you need help.')
  t.equal(await text(s, 'N'), 'We are alerting your emergency contacts now.')
  t.same(
    (await probesOf(s)).map((p) => p.status),
    [3]
  )
  t.equal(await text(s, 'hello there'), null, 'with nothing pending and no command, there is nothing to answer')
})
