import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { FakeClock } from '../../src/clock.js'
import type { RecordedEvent } from '../../src/events/types.js'
import { buildProbeKronus, fireProbe, probedUser, probesOf, turnProbesOn } from './harness.js'

/*
 * The emergency-contact plugin learns of an alarm through a durable subscription. These
 * tests prove that an alarm, once committed, reaches it even when the process dies before
 * or during the delivery.
 */

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-probe-crash-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('a crash right after a status change still delivers its events after the restart', async (t) => {
  const dir = tempDir(t)
  const clock = new FakeClock()
  const first = await buildProbeKronus(t, { dir, clock })
  const beforeCrash: RecordedEvent[] = []
  first.events.subscribe('alarm', ['probe.status_changed', 'emergency.triggered'], async (event) => {
    beforeCrash.push(event)
  })
  const { user } = await probedUser(first)
  await turnProbesOn(first, user)
  await fireProbe(first, user.id)
  const [probe] = await probesOf(first.kronus.knex, user.id)
  await first.probes.handleReply({ userId: user.id, text: 'n' })
  // The process dies here: the change is committed, no delivery job has run.
  await first.kronus.stop()
  t.same(beforeCrash, [], 'nothing was delivered before the crash')

  const second = await buildProbeKronus(t, { dir, clock })
  const afterRestart: RecordedEvent[] = []
  second.events.subscribe('alarm', ['probe.status_changed', 'emergency.triggered'], async (event) => {
    afterRestart.push(event)
  })
  await second.kronus.queue.drain()
  t.same(
    afterRestart.map((e) => [e.type, e.payload]),
    [
      [
        'probe.status_changed',
        { userId: user.id, probeId: probe!.id, from: 'pending', to: 'bad', reason: 'replied "n"' }
      ],
      ['emergency.triggered', { userId: user.id, probeId: probe!.id, status: 'bad' }]
    ],
    'both events, in order, exactly once'
  )
  await second.kronus.queue.drain()
  t.equal(afterRestart.length, 2, 'a delivered event is not delivered again')
})

t.test('a delivery that failed before the crash is delivered after the restart', async (t) => {
  const dir = tempDir(t)
  const clock = new FakeClock()
  const first = await buildProbeKronus(t, { dir, clock })
  first.events.subscribe('alarm', 'emergency.triggered', async () => {
    throw new Error('the process died while the plugin was texting')
  })
  const { user } = await probedUser(first)
  await turnProbesOn(first, user, { max_retries: 0, wait_time_in_minutes: 5 })
  await fireProbe(first, user.id)
  clock.advanceMinutes(5)
  await first.kronus.queue.drain()
  const [probe] = await probesOf(first.kronus.knex, user.id)
  t.equal(probe!.status, 'unavailable')
  await first.kronus.stop()

  const second = await buildProbeKronus(t, { dir, clock })
  const delivered: RecordedEvent[] = []
  second.events.subscribe('alarm', 'emergency.triggered', async (event) => {
    delivered.push(event)
  })
  // The failed attempt is retried after its back-off.
  clock.advanceMinutes(30)
  await second.kronus.queue.drain()
  t.same(
    delivered.map((e) => e.payload),
    [{ userId: user.id, probeId: probe!.id, status: 'unavailable' }]
  )
})

t.test('in-memory listeners hear of each step once it has committed', async (t) => {
  const h = await buildProbeKronus(t)
  const heard: string[] = []
  for (const type of [
    'probe.started',
    'probe.follow_up_sent',
    'probe.status_changed',
    'user.aliveness_changed',
    'emergency.triggered'
  ] as const) {
    h.events.on(type, () => {
      heard.push(type)
    })
  }
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { max_retries: 1, wait_time_in_minutes: 5 })
  await fireProbe(h, user.id)
  h.kronus.clock.advanceMinutes(5)
  await h.kronus.queue.drain()
  h.kronus.clock.advanceMinutes(5)
  await h.kronus.queue.drain()
  await h.events.settled()
  t.same(heard, [
    'probe.started',
    'probe.follow_up_sent',
    'probe.status_changed',
    'user.aliveness_changed',
    'emergency.triggered'
  ])
})
