import t from 'tap'
import { alarmsOf, checkIn, emergencyContactOf, text } from '../alarms/harness.js'
import { call } from '../helpers/http.js'
import { consoleErrors, consoleSetup, lowContrastTexts, newPage, noBrowser, signIn } from './browser.js'

/*
 * An alarm as the console shows it: raised by the user's "No." to a check-in (through the
 * real inbound SMS handling), it appears on their page with its contacts and timeline; the
 * contact's acknowledgement (their OK and the code, by SMS) shows there too; an admin sees
 * it among the open alarms and closes it.
 */

const skip = noBrowser()
if (skip) t.plan(0, skip)
else {
  t.test('an alarm appears on the person’s page, then its acknowledgement', async (t) => {
    const s = await consoleSetup(t)
    const mary = await emergencyContactOf(s, 'Mary')
    const page = await newPage(t, s)
    await signIn(page, s.url, s.user.email, s.user.password)
    await page.getByText('No alarm, ever.').waitFor()

    await checkIn(s)
    t.equal(await text(s, s.user.phone_number, 'No.'), 'We are alerting your emergency contacts now.')
    const [alarm] = await alarmsOf(s)
    await page.getByRole('button', { name: 'Refresh status and history' }).click()
    const shown = page.locator(`#alarm-history details[data-alarm-id="${alarm.id}"]`)
    await shown.waitFor()
    t.match(
      await shown.locator('summary').textContent(),
      new RegExp(`Open.*Alarm ${alarm.code}.*said no`),
      'the open alarm'
    )
    t.match(await shown.locator('.alarm-contacts').textContent(), /Mary Contact/, 'with the contact alerted')
    t.ok((await shown.locator('.timeline li').count()) >= 1, 'and its timeline')
    await page.locator('#status-state').filter({ hasText: 'Alarm open' }).waitFor()
    t.match(await page.textContent('main'), new RegExp(`Alarm code ${alarm.code}`), 'the status says an alarm is open')

    t.match(await text(s, mary.phone_number, `OK ${alarm.code}`), /^Thank you Mary/)
    await page.getByRole('button', { name: 'Refresh status and history' }).click()
    await shown.locator('summary').filter({ hasText: 'Acknowledged by Mary Contact' }).waitFor()
    t.pass('the acknowledgement shows, and by whom')
    t.match(await shown.locator('.alarm-contacts').textContent(), /acknowledged/, "the contact's state is acknowledged")
    t.match(await shown.locator('.timeline').textContent(), /acknowledged/, 'the timeline has it')
    t.same(consoleErrors(page), [], 'no error in the browser console')
  })

  t.test('an admin sees every user and the open alarm, and closes it', async (t) => {
    const s = await consoleSetup(t)
    await emergencyContactOf(s, 'Mary')
    await checkIn(s)
    await text(s, s.user.phone_number, 'No.')
    const [alarm] = await alarmsOf(s)
    const page = await newPage(t, s)
    await signIn(page, s.url, s.admin.email, s.admin.password)
    await page.getByRole('button', { name: 'Admin' }).click()
    await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor()

    const users = page.getByRole('region', { name: 'Every user' })
    const ada = users.getByRole('row').filter({ hasText: 'Ada Lovelace' })
    await ada.waitFor()
    t.match(await ada.textContent(), /Alarm open/, "Ada's state is the open alarm")
    await users.getByLabel('Show').selectOption('ok')
    await users.getByText('Nobody in this state.').waitFor()
    t.pass('the list filters by state')

    const open = page.getByRole('region', { name: 'Open alarms' })
    const shown = open.locator(`details[data-alarm-id="${alarm.id}"]`)
    await shown.waitFor()
    t.match(await shown.locator('summary').textContent(), /for Ada Lovelace/, 'the open alarm, whose')
    for (const title of ['Jobs', 'Limits reached', 'Webhook deliveries that failed']) {
      await page.getByRole('region', { name: title }).getByRole('heading', { level: 2 }).waitFor()
      await page.getByRole('region', { name: title }).getByText('Loading…').waitFor({ state: 'detached' })
      t.pass(`the ${title} section loaded`)
    }
    const jobs = await page.getByRole('region', { name: 'Jobs' }).textContent()
    t.match(jobs, /Dead jobs \(0\)/, 'no dead job')
    t.notMatch(jobs, /Late work/, 'and no lane 2 minutes behind')
    t.same(await lowContrastTexts(page), [], 'every text of the admin page has AA contrast')

    await shown.getByLabel('Note to the contacts and the user').fill('Ada called me, all is well')
    await shown.getByRole('button', { name: `Close alarm ${alarm.code}` }).click()
    await open.getByText('No alarm is open.').waitFor()
    const after = await call(s.kronus, { url: `/v1/alarms?status=resolved`, token: s.admin.token })
    t.match(after.body.data, [{ id: alarm.id, status: 'resolved', resolved_by: /\S/ }], 'Kronus closed it')
    t.same(consoleErrors(page), [], 'no error in the browser console')
  })
}
