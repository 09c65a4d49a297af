import t from 'tap'
import { CHECKIN_LINK_LIMITS } from '../../src/services/checkin-link.js'
import { PUBLIC_URL } from '../plugins/twilio-sms/sms-kronus.js'
import { adaWithTwoContacts, MINUTE, type Scenario, type ScenarioUser } from './harness.js'

/*
 * The check-in link (issue 15, point 4), end to end: a secret URL whose press answers a
 * waiting check-in exactly as a Y does, or, with nothing waiting, is proof of life that
 * answers the next scheduled check-in in advance when it falls within the user's
 * checkin_window_minutes: then no text is sent at all, and the history says why.
 */

const ASK = 'Are you OK Ada? Reply Y or N.'

async function createLink(s: Scenario, user: ScenarioUser): Promise<{ url: string; path: string; rotated: boolean }> {
  const res = await s.api({ method: 'POST', url: `/v1/users/${user.id}/checkin_link`, token: user.token })
  if (res.statusCode !== 201) throw new Error(`check-in link: ${res.statusCode} ${res.payload}`)
  return res.body.data
}

async function checkInWindow(s: Scenario, user: ScenarioUser, minutes: number): Promise<void> {
  const res = await s.api({
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { checkin_window_minutes: minutes }
  })
  if (res.statusCode !== 200) throw new Error(`window: ${res.statusCode} ${res.payload}`)
}

function press(s: Scenario, path: string, options: { json?: boolean; address?: string } = {}) {
  return s.kronus.server.inject({
    method: 'POST',
    url: path,
    headers: {
      ...(options.json ? { accept: 'application/json' } : { accept: 'text/html' }),
      'content-type': 'application/x-www-form-urlencoded'
    },
    payload: '',
    remoteAddress: options.address ?? '203.0.113.7'
  })
}

async function probes(s: Scenario, user: ScenarioUser): Promise<any[]> {
  return s.kronus.knex('probes').where({ user_id: user.id }).orderBy('id')
}

t.test('the page, and a press while a check-in waits: it ends exactly as a Y would', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  const link = await createLink(s, ada)
  t.match(link.url, new RegExp(`^${PUBLIC_URL}/c/[A-Za-z0-9_-]{43}$`), '<publicUrl>/c/<token>: 256 random bits')
  t.equal(link.url, `${PUBLIC_URL}${link.path}`)
  t.equal(link.rotated, false)
  const token = link.path.slice(3)
  const stored = await s.kronus.knex('checkin_links').where({ user_id: ada.id }).first()
  t.not(stored.token_hash, token, 'only a hash is kept')
  t.notMatch(JSON.stringify(await s.kronus.knex('events').select('payload')), new RegExp(token), 'no event holds it')

  const page = await s.kronus.server.inject({ method: 'GET', url: link.path })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.headers['content-security-policy'], /default-src 'none'/)
  t.match(page.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(page.headers['referrer-policy'], 'no-referrer', 'the token stays out of Referer headers')
  t.equal(page.headers['cache-control'], 'no-store')
  t.match(page.payload, /<form method="post">/)
  t.match(page.payload, /<button type="submit">I'm OK<\/button>/)
  t.notMatch(page.payload, /<script|https?:\/\//, 'no script, no external asset')

  await s.checkInTime()
  await s.advance(3)
  const pressed = await press(s, link.path)
  t.equal(pressed.statusCode, 200)
  t.match(pressed.payload, /Thanks, recorded/)
  t.equal(await s.probeStatus(ada), 'good', 'the check-in ended good')
  const [probe] = await probes(s, ada)
  const flips = await s.kronus.knex('probe_status_changes').where({ probe_id: probe.id }).orderBy('id')
  t.same(
    flips.map((f: any) => [f.from_status, f.to_status, f.reason]),
    [
      [null, 'pending', 'scheduled probe'],
      ['pending', 'good', 'answered OK through the check-in link']
    ]
  )
  const reply = await s.kronus.knex('events').where({ type: 'probe.reply_received' }).first()
  const payload = typeof reply.payload === 'string' ? JSON.parse(reply.payload) : reply.payload
  t.match(payload, { probeId: probe.id, understood: true, via: 'link' }, 'the reply event says it came by the link')

  await s.advance(120)
  t.same(s.said(ada), [ASK], 'no follow-up: the check-in was answered')
  t.same(s.heard(mary), [], 'nobody alerted')
  t.same(s.heard(charles), [])

  const again = await press(s, link.path, { json: true })
  t.equal(again.statusCode, 200)
  t.same(again.result && JSON.parse(again.payload).data, { recorded: true, outcome: 'proof_of_life' })
})

t.test(
  'proof of life within checkin_window_minutes answers the next check-in: no text, history says why',
  async (t) => {
    const { s, ada, mary } = await adaWithTwoContacts(t)
    await checkInWindow(s, ada, 60)
    const link = await createLink(s, ada)
    await s.settle()
    s.clock.set(Date.parse('2026-01-05T17:20:00Z'))
    await s.settle()
    const pressed = await press(s, link.path, { json: true })
    t.equal(pressed.statusCode, 200)
    t.same(JSON.parse(pressed.payload).data, { recorded: true, outcome: 'proof_of_life' })

    await s.checkInTime()
    await s.advance(120)
    t.same(s.said(ada), [], 'Ada was not texted at 18:00')
    t.same(s.heard(mary), [], 'nobody alerted')
    const [probe] = await probes(s, ada)
    t.equal(probe?.origin, 'scheduled')
    t.equal(await s.probeStatus(ada), 'good', 'the check-in is in the probe list, answered')
    const flip = await s.kronus.knex('probe_status_changes').where({ probe_id: probe.id, to_status: 'good' }).first()
    t.match(
      flip.reason,
      /answered in advance: check-in link pressed 40 minute\(s\) before, within the 60-minute window/
    )

    // One proof answers one check-in: the next day's is texted.
    await s.skip(24 * 60 - 120)
    t.same(s.said(ada), [ASK], "the next day's check-in is texted")
  }
)

t.test('proof of life outside the window does not answer the check-in', async (t) => {
  const { s, ada } = await adaWithTwoContacts(t)
  await checkInWindow(s, ada, 20)
  const link = await createLink(s, ada)
  await s.settle()
  s.clock.set(Date.parse('2026-01-05T17:30:00Z'))
  await s.settle()
  t.equal((await press(s, link.path)).statusCode, 200)
  await s.checkInTime()
  t.same(s.said(ada), [ASK], 'a press 30 minutes before, with a 20-minute window: the check-in is texted')
  t.equal(await s.probeStatus(ada), 'pending')
})

t.test('with checkin_window_minutes 0 (the default) proof of life answers nothing in advance', async (t) => {
  const { s, ada } = await adaWithTwoContacts(t)
  const settings = await s.api({ url: `/v1/users/${ada.id}`, token: ada.token })
  t.equal(settings.body.data.probe_settings?.checkin_window_minutes ?? 0, 0)
  const link = await createLink(s, ada)
  await s.settle()
  s.clock.set(Date.parse('2026-01-05T17:59:00Z'))
  await s.settle()
  t.equal((await press(s, link.path)).statusCode, 200)
  await s.checkInTime()
  t.same(s.said(ada), [ASK])
})

t.test('rotating the link kills the old one; revoking kills it; a wrong token is a 404', async (t) => {
  const { s, ada } = await adaWithTwoContacts(t)
  const first = await createLink(s, ada)
  const second = await createLink(s, ada)
  t.equal(second.rotated, true)
  t.not(second.path, first.path)
  t.equal((await press(s, first.path)).statusCode, 404, 'the old link is dead')
  const oldPage = await s.kronus.server.inject({ method: 'GET', url: first.path })
  t.equal(oldPage.statusCode, 404)
  t.match(oldPage.payload, /Link not found/)
  t.equal((await press(s, first.path, { json: true })).statusCode, 404, 'JSON too')
  t.equal((await press(s, second.path)).statusCode, 200, 'the new one works')

  t.equal((await press(s, '/c/not-a-token')).statusCode, 404)
  t.equal((await press(s, `/c/${'A'.repeat(43)}`)).statusCode, 404)

  const other = await s.addUser('Eve', 'Other')
  const stolen = await s.api({ method: 'POST', url: `/v1/users/${ada.id}/checkin_link`, token: other.token })
  t.equal(stolen.statusCode, 403, "nobody makes another user's link")
  const byAdmin = await s.api({ method: 'POST', url: `/v1/users/${ada.id}/checkin_link`, token: s.admin.token })
  t.equal(byAdmin.statusCode, 403, 'not even an admin')

  const revoked = await s.api({ method: 'DELETE', url: `/v1/users/${ada.id}/checkin_link`, token: ada.token })
  t.equal(revoked.statusCode, 200)
  t.equal((await press(s, second.path)).statusCode, 404, 'a revoked link is dead')
  const again = await s.api({ method: 'DELETE', url: `/v1/users/${ada.id}/checkin_link`, token: ada.token })
  t.equal(again.statusCode, 404, 'nothing left to revoke')
  const events = await s.kronus.knex('events').where({ type: 'checkin_link.created' }).count({ n: '*' })
  t.equal(Number(events[0]!.n), 2)
})

t.test('presses are rate-limited per token and per address (429 with Retry-After), and the limit resets', async (t) => {
  const { s, ada } = await adaWithTwoContacts(t)
  const link = await createLink(s, ada)
  for (let i = 0; i < CHECKIN_LINK_LIMITS.perToken; i++) {
    const res = await press(s, link.path, { json: true, address: `198.51.100.${i + 1}` })
    if (res.statusCode !== 200) t.fail(`press ${i + 1}: ${res.statusCode}`)
  }
  const limited = await press(s, link.path, { json: true, address: '198.51.100.250' })
  t.equal(limited.statusCode, 429, 'one token, too many presses, whatever the address')
  t.ok(Number(limited.headers['retry-after']) > 0)
  const page = await press(s, link.path, { address: '198.51.100.251' })
  t.equal(page.statusCode, 429)
  t.match(page.payload, /Too many requests/)

  for (let i = 0; i < CHECKIN_LINK_LIMITS.perAddress; i++) await press(s, `/c/guess${i}`, { address: '192.0.2.9' })
  const guessing = await press(s, `/c/guess-more`, { json: true, address: '192.0.2.9' })
  t.equal(guessing.statusCode, 429, 'one address guessing tokens is stopped')

  s.clock.advance(CHECKIN_LINK_LIMITS.windowMs + MINUTE)
  t.equal((await press(s, link.path, { json: true })).statusCode, 200, 'after the window')
})
