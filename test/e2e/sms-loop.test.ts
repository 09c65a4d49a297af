import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import twilio from 'twilio'
import { usageText } from '../../plugins/sms-commands/commands.js'
import { freePort, HANG_MS, startKronus, waitForHealth, within } from '../cli/run-kronus.js'
import type { TestKronus } from '../helpers/app.js'
import { agreedBeforeTheTest, call, createAdmin, createContact, createUser, type TestUser } from '../helpers/http.js'
import { testPrivateKeyPem } from '../helpers/keys.js'
import {
  buildSmsKronus,
  inboundForm,
  nextMessageSid,
  postSms,
  type SmsKronus,
  textsTo
} from '../plugins/twilio-sms/sms-kronus.js'

/*
 * The whole SMS loop over HTTP, with the real twilio SDK talking to a loopback fake of
 * Twilio and Twilio's webhook signed with the twilio package's own helper: a schedule,
 * the check-in text, its follow-ups, the user's reply, the alerts to every emergency
 * contact, and the user told whom Kronus reached.
 */

const MINUTE = 60_000

interface Setup extends SmsKronus {
  user: TestUser
  /** Emergency contacts in the order they were marked, then one who is not. */
  first: any
  second: any
  bystander: any
}

async function setUp(t: Test): Promise<Setup> {
  const sms = await buildSmsKronus(t)
  const { kronus } = sms
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin, { first_name: 'Ada', last_name: 'Lovelace' })
  // Created first but marked as an emergency contact last: alerts follow the marking order.
  const second = await createContact(kronus, user, {
    first_name: 'Charles',
    last_name: 'Babbage',
    is_emergency_contact: false
  })
  const first = await createContact(kronus, user, {
    first_name: 'Mary',
    last_name: 'Somerville',
    is_emergency_contact: true
  })
  const bystander = await createContact(kronus, user, { first_name: 'Nobody', last_name: 'Alerted' })
  kronus.clock.advanceMinutes(1)
  const marked = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${second.id}`,
    token: user.token,
    payload: { is_emergency_contact: true }
  })
  t.equal(marked.statusCode, 200)
  await agreedBeforeTheTest(kronus, second)
  return { ...sms, user, first, second, bystander }
}

async function turnProbesOn(kronus: TestKronus, user: TestUser, settings: Record<string, unknown>): Promise<void> {
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: true, ...settings }
  })
  if (res.statusCode !== 200) throw new Error(`probe settings: ${res.statusCode} ${res.payload}`)
}

/** What the running server does on its own: the scheduler tick, then every job now due. */
async function runUntilIdle(kronus: TestKronus): Promise<void> {
  await kronus.scheduler.tick()
  await kronus.queue.drain()
}

async function probeOf(kronus: TestKronus, user: TestUser): Promise<any> {
  const res = await call(kronus, { url: `/v1/users/${user.id}/probes`, token: user.token })
  return res.body.data[0]
}

async function probeSettingsActive(kronus: TestKronus, userId: number): Promise<boolean> {
  const row = await kronus.knex('probe_settings').where({ user_id: userId }).first()
  return Boolean(row.active)
}

t.test(
  'a scheduled probe, its follow-ups, an N reply, every emergency contact alerted in order, the user told',
  async (t) => {
    const { kronus, fake, user, first, second, bystander } = await setUp(t)
    // The fake clock starts on Monday 2026-01-05 at 12:00 UTC; the check-in is at 18:00.
    await turnProbesOn(kronus, user, { cron_expression: '0 18 * * *', max_retries: 2, wait_time_in_minutes: 10 })

    await runUntilIdle(kronus)
    t.same(textsTo(fake, user.phone_number), [], 'nothing before the scheduled time')

    kronus.clock.set('2026-01-05T18:00:00Z')
    await runUntilIdle(kronus)
    t.same(textsTo(fake, user.phone_number), ['Are you OK Ada? Reply Y or N.'], 'the check-in went out through Twilio')
    const sent = fake.requests.find((r) => r.form.get('To') === user.phone_number)!
    t.equal(sent.form.get('MessagingServiceSid'), 'MG' + 'a'.repeat(32))
    t.equal(
      sent.form.get('ValidityPeriod'),
      '3600',
      'a check-in Twilio cannot deliver within the hour is dropped, not delivered late'
    )

    kronus.clock.advance(10 * MINUTE)
    await runUntilIdle(kronus)
    kronus.clock.advance(10 * MINUTE)
    await runUntilIdle(kronus)
    t.same(
      textsTo(fake, user.phone_number),
      [
        'Are you OK Ada? Reply Y or N.',
        'Ada, we have not heard back from you. Are you OK? Reply Y or N.',
        'Ada, we have not heard back from you. Are you OK? Reply Y or N.'
      ],
      'a follow-up at each wait'
    )
    t.equal((await probeOf(kronus, user)).status.name, 'pending')

    const reply = await postSms(kronus, { from: user.phone_number, body: ' n ' })
    t.equal(reply.statusCode, 200)
    t.match(reply.contentType, /^text\/xml/)
    t.same(reply.messages, ['We are alerting your emergency contacts now.'], 'the N is acknowledged at once in TwiML')

    await runUntilIdle(kronus)
    const probe = await probeOf(kronus, user)
    t.equal(probe.status.name, 'bad')

    const [alarm] = await kronus.knex('alarms').where({ user_id: user.id })
    const answer = `Reply OK ${alarm.code} if you will check on Ada, or SAFE ${alarm.code} if Ada is safe.`
    const alerts = fake.messages.filter((m) => m.to !== user.phone_number).map((m) => [m.to, m.body])
    t.same(
      alerts,
      [
        [
          first.phone_number,
          `Mary, this is Kronus, the check-in service of Ada Lovelace. Ada answered that they are NOT OK. They texted: "n". Please contact them now: ${user.phone_number}. ${answer}`
        ],
        [
          second.phone_number,
          `Charles, this is Kronus, the check-in service of Ada Lovelace. Ada answered that they are NOT OK. They texted: "n". Please contact them now: ${user.phone_number}. ${answer}`
        ]
      ],
      'every emergency contact, in the order they were marked, and nobody else'
    )
    t.same(textsTo(fake, bystander.phone_number), [])

    const links = await kronus.knex('emergency_probes').where({ probe_id: probe.id }).orderBy('id')
    t.same(
      links.map((row: any) => Number(row.contact_id)),
      [first.id, second.id],
      'one emergency probe per contact'
    )
    t.equal(await probeSettingsActive(kronus, user.id), true, "an alarm does not turn the user's check-ins off")
    t.same(
      textsTo(fake, user.phone_number).slice(3),
      [
        'Your alert was sent to Mary Somerville and Charles Babbage (no delivery receipt yet). Nobody has confirmed they are coming yet; Kronus will tell you when someone does.'
      ],
      'the user is told to whom the alert was sent, and that nobody has confirmed yet'
    )

    // Charles answers over the webhook: the user hears who is coming, Mary who is on it.
    const ack = await postSms(kronus, { from: second.phone_number, body: `ok ${alarm.code}` })
    t.match(ack.messages, [/^Thank you Charles/])
    await runUntilIdle(kronus)
    t.match(textsTo(fake, user.phone_number).at(-1), /^Help is on the way: Charles Babbage/)
    t.match(textsTo(fake, first.phone_number).at(-1), /^Mary, Charles Babbage is checking on Ada Lovelace/)

    // Ada is fine after all: the all-clear, and her check-ins come back the next day.
    const ok = await postSms(kronus, { from: user.phone_number, body: 'I am ok' })
    t.same(ok.messages, [
      'Glad you are OK. Kronus told your emergency contacts that all is well. Your check-ins are back on.'
    ])
    await runUntilIdle(kronus)
    t.match(textsTo(fake, first.phone_number).at(-1), /all clear: Ada answered that they are OK/)
    t.match(textsTo(fake, second.phone_number).at(-1), /all clear: Ada answered that they are OK/)
    kronus.clock.set('2026-01-06T18:00:00Z')
    await runUntilIdle(kronus)
    t.equal(textsTo(fake, user.phone_number).at(-1), 'Are you OK Ada? Reply Y or N.', 'the next check-in, on schedule')
  }
)

t.test(
  'no answer at all: the probe ends unavailable after the last follow-up and contacts get the unavailable text',
  async (t) => {
    const { kronus, fake, user, first, second } = await setUp(t)
    await turnProbesOn(kronus, user, { cron_expression: '30 12 * * *', max_retries: 1, wait_time_in_minutes: 5 })

    kronus.clock.set('2026-01-05T12:30:00Z')
    await runUntilIdle(kronus)
    kronus.clock.advance(5 * MINUTE - 1)
    await runUntilIdle(kronus)
    t.equal(textsTo(fake, user.phone_number).length, 1, 'no follow-up a millisecond early')
    kronus.clock.advance(1)
    await runUntilIdle(kronus)
    t.equal(textsTo(fake, user.phone_number).length, 2, 'the follow-up at the wait time')
    t.equal((await probeOf(kronus, user)).status.name, 'pending')
    t.same(
      fake.messages.filter((m) => m.to !== user.phone_number),
      [],
      'no alert while the user may still answer'
    )

    kronus.clock.advance(5 * MINUTE)
    await runUntilIdle(kronus)
    t.equal((await probeOf(kronus, user)).status.name, 'unavailable')
    const [alarm] = await kronus.knex('alarms').where({ user_id: user.id })
    t.equal(alarm.trigger, 'no_answer')
    const unavailableText = (contact: string) =>
      `${contact}, this is Kronus, the check-in service of Ada Lovelace. Ada has not answered their check-ins. Please make sure they are OK: ${user.phone_number}. Reply OK ${alarm.code} if you will check on Ada, or SAFE ${alarm.code} if Ada is safe.`
    t.same(textsTo(fake, first.phone_number), [unavailableText('Mary')])
    t.same(textsTo(fake, second.phone_number), [unavailableText('Charles')])
    t.equal(await probeSettingsActive(kronus, user.id), true)
    t.same(textsTo(fake, user.phone_number).slice(2), [
      'Your alert was sent to Mary Somerville and Charles Babbage (no delivery receipt yet). Nobody has confirmed they are coming yet; Kronus will tell you when someone does.'
    ])

    const late = await postSms(kronus, { from: user.phone_number, body: 'Y' })
    t.same(
      late.messages,
      ['Glad you are OK. Kronus told your emergency contacts that all is well. Your check-ins are back on.'],
      'a late Y is the all-clear'
    )
    t.equal((await probeOf(kronus, user)).status.name, 'unavailable')
    await runUntilIdle(kronus)
    t.match(textsTo(fake, first.phone_number).at(-1), /^Mary, all clear: Ada answered that they are OK/)
  }
)

t.test('a Y reply ends the probe good: no alert, probes stay on', async (t) => {
  const { kronus, fake, user } = await setUp(t)
  await turnProbesOn(kronus, user, { cron_expression: '0 18 * * *', max_retries: 2, wait_time_in_minutes: 10 })
  kronus.clock.set('2026-01-05T18:00:00Z')
  await runUntilIdle(kronus)
  const reply = await postSms(kronus, { from: user.phone_number, body: 'Yes' })
  t.same(reply.messages, ['Thanks Ada, glad you are OK.'])
  kronus.clock.advance(60 * MINUTE)
  await runUntilIdle(kronus)
  t.equal((await probeOf(kronus, user)).status.name, 'good')
  t.equal(fake.messages.length, 1, 'only the check-in itself')
  t.equal(await probeSettingsActive(kronus, user.id), true)
})

t.test('STOP over the webhook turns probes off, ends the pending probe, and tells the contacts once', async (t) => {
  const { kronus, fake, user, first, second } = await setUp(t)
  await turnProbesOn(kronus, user, { cron_expression: '0 18 * * *', max_retries: 1, wait_time_in_minutes: 5 })
  kronus.clock.set('2026-01-05T18:00:00Z')
  await runUntilIdle(kronus)

  const reply = await postSms(kronus, { from: user.phone_number, body: 'Stop' })
  t.match(reply.messages, [/check-ins are off/])
  t.equal(await probeSettingsActive(kronus, user.id), false)
  t.equal((await probeOf(kronus, user)).status.name, 'cancelled')
  kronus.clock.advance(60 * MINUTE)
  await runUntilIdle(kronus)
  t.equal(textsTo(fake, user.phone_number).length, 1, 'no follow-up after STOP')
  for (const contact of [first, second]) {
    const texts = textsTo(fake, contact.phone_number)
    t.match(texts[0], 'Kronus can no longer text Ada (they texted STOP while a check-in waited', 'told at once')
  }
  const optOuts = await kronus.events.list({ type: 'twilio-sms.opted_out' })
  t.same(
    optOuts.map((e) => e.payload.keyword),
    ['STOP'],
    'why the probes went off is recorded'
  )
})

t.test(
  'kronus server with a first-format config.yml that has only twilio keys serves the signed webhook',
  async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), 'kronus-sms-loop-'))
    t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
    const port = await freePort()
    const authToken = 'cli-auth-token'
    writeFileSync(
      join(cwd, 'config.yml'),
      [
        'kronus:',
        '  privateKeyPem:',
        '  publicUrl: "https://my-app.com"',
        '  sqlite:',
        '    passPhrase: passphrase',
        'twilio:',
        `  accountSid: AC${'5'.repeat(32)}`,
        `  authToken: ${authToken}`,
        `  messagingServiceSid: MG${'6'.repeat(32)}`,
        ''
      ].join('\n')
    )
    const run = startKronus(['server', '--config', 'config.yml'], {
      cwd,
      env: { KRONUS_PORT: String(port), KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
    })
    t.teardown(() => run.child.kill('SIGKILL'))
    await waitForHealth(run, port)
    const base = `http://127.0.0.1:${port}`

    const phone = '+15550007777'
    const signup = await fetch(`${base}/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        first_name: 'Cli',
        last_name: 'User',
        email: 'cli@example.com',
        password: 'secret-pw',
        phone_number: phone
      })
    })
    t.equal(signup.status, 201)

    const sms = async (body: string, token = authToken) => {
      const form = inboundForm({ from: phone, body, messageSid: nextMessageSid() })
      const res = await fetch(`${base}/webhook/sms`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(token, 'https://my-app.com/webhook/sms', form)
        },
        body: new URLSearchParams(form).toString()
      })
      return { status: res.status, body: await res.text() }
    }
    t.same(
      await sms('ping'),
      { status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><Response><Message>PONG!</Message></Response>' },
      'sms-commands is there'
    )
    t.match((await sms('HELP')).body, usageText().split('\n')[0]!)
    t.equal((await sms('ping', 'wrong-token')).status, 401, 'twilio-sms checks the signature with the configured token')

    run.child.kill('SIGTERM')
    t.same(await within(run.exited, HANG_MS, 'stop', run.child), { code: 0, signal: null })
  }
)
