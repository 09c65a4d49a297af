import t from 'tap'
import { startScenario } from './harness.js'

/*
 * Alarms never wait behind other work (issue 14, point 8): one user with 500 emergency
 * contacts says N a moment before another user does; the other user's first alert text
 * reaches Twilio before most of the 500. Order only: the fake clock does not move.
 */

const MANY = 500

t.test('500 contacts on one user beside another user’s alarm', async (t) => {
  const s = await startScenario(t, {
    // Each emergency contact's invitation is one of Bob's texts: his allowance must hold 500 of them.
    config: { limits: { contactsPerUser: MANY, textsPerUserPerDay: MANY + 10 } } as any
  })
  const bob = await s.addUser('Bob', 'Many')
  const contacts = new Set<string>()
  for (let i = 0; i < MANY; i++) contacts.add((await s.addContact(bob, `Friend${i}`, 'Ofbob')).phone)
  const ada = await s.addUser('Ada', 'Lovelace')
  const mary = await s.addContact(ada, 'Mary', 'Somerville')
  await s.checkIns(bob)
  await s.checkIns(ada)
  await s.checkInTime()

  await s.text(bob, 'N')
  await s.text(ada, 'N')
  await s.settle()

  const texts = s.outbox().filter((m) => m.kind === 'text')
  const maryAt = texts.findIndex((m) => m.to === mary.phone)
  t.ok(maryAt >= 0, "Ada's alert went out")
  const bobsBefore = texts.slice(0, Math.max(maryAt, 0)).filter((m) => contacts.has(m.to)).length
  const bobsAll = texts.filter((m) => contacts.has(m.to)).length
  t.equal(bobsAll, MANY, "every one of Bob's contacts alerted")
  t.ok(bobsBefore < MANY / 2, `Mary's alert went out after ${bobsBefore} of Bob's ${MANY}, before most of them`)
  t.equal(texts[maryAt]?.minute, 0)
})
