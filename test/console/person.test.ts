import t from 'tap'
import { emergencyContactOf } from '../alarms/harness.js'
import { call } from '../helpers/http.js'
import {
  consoleErrors,
  consoleSetup,
  hasFocus,
  lowContrastTexts,
  newPage,
  noBrowser,
  signIn,
  storedInBrowser,
  unlabelledControls
} from './browser.js'

/*
 * A person's page in a real browser: signing in with the keyboard alone, adding, editing
 * and deleting a contact (with the API's error shown next to the field it names), and
 * changing the schedule with its plain-words preview.
 */

const skip = noBrowser()
if (skip) t.plan(0, skip)
else {
  t.test('a person signs in with the keyboard alone and sees their status', async (t) => {
    const s = await consoleSetup(t)
    const page = await newPage(t, s)
    await page.goto(s.url)
    await page.getByRole('heading', { name: 'Sign in to Kronus' }).waitFor()
    t.match(
      await page.textContent('main'),
      /reloading the page signs you out/,
      'the sign-in page says the token is not kept'
    )
    t.same(await lowContrastTexts(page), [], 'every text of the sign-in page has AA contrast')
    // The email field has the focus on arrival; Tab reaches the password, Enter submits.
    await page.keyboard.type(s.user.email)
    await page.keyboard.press('Tab')
    await page.keyboard.type('wrong password')
    await page.keyboard.press('Enter')
    await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor()
    t.pass('a wrong password is announced')
    await page.getByLabel('Password').fill('')
    await page.getByLabel('Password').focus()
    await page.keyboard.type(s.user.password)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { level: 1, name: 'Hello, Ada' }).waitFor()
    t.pass('signed in with the keyboard only')
    await page.locator('#status-state').waitFor()
    t.match(await page.textContent('#status-state'), /Check-ins off/, 'the status says check-ins are off')
    t.equal(await page.textContent('#next-checkin'), 'None scheduled', 'and that none is scheduled')
    t.same(await unlabelledControls(page), [], 'every control of the page has an accessible name')
    t.same(await lowContrastTexts(page), [], "every text of the person's page has AA contrast")
    const stored = await storedInBrowser(page)
    t.same(stored, [0, 0, ''], 'nothing is stored in the browser')
    t.same(consoleErrors(page), [], 'no error in the browser console (no CSP violation)')
  })

  t.test('a person adds, edits and deletes a contact', async (t) => {
    const s = await consoleSetup(t)
    const page = await newPage(t, s)
    await signIn(page, s.url, s.user.email, s.user.password)
    const contacts = page.getByRole('region', { name: 'Contacts' })
    await contacts.getByText('No contacts yet.').waitFor()
    await contacts.getByText('Add a contact').click()
    const add = contacts.getByRole('form', { name: 'Add a contact' })
    await add.getByLabel('First name').fill('Grace')
    await add.getByLabel('Last name').fill('Hopper')
    await add.getByLabel('Mobile number').fill('12345')
    await add.getByLabel('Emergency contact').check()
    await add.getByRole('button', { name: 'Add contact' }).click()
    const error = add.getByRole('alert').filter({ hasText: 'phone_number' })
    await error.waitFor()
    t.match(
      await error.textContent(),
      /"phone_number" must be an E\.164 phone number/,
      "the API's message names the field"
    )
    t.equal(await add.getByLabel('Mobile number').getAttribute('aria-invalid'), 'true', 'the field is marked invalid')
    t.ok(await hasFocus(add.getByLabel('Mobile number')), 'and has the focus')

    await add.getByLabel('Mobile number').fill('+14165550123')
    await add.getByRole('button', { name: 'Add contact' }).click()
    const row = contacts.getByRole('listitem').filter({ hasText: 'Grace Hopper' })
    await row.waitFor()
    t.match(await row.textContent(), /\+14165550123/, 'the new contact is listed with their number')
    t.match(await row.textContent(), /Emergency contact/, 'as an emergency contact')
    t.match(await row.textContent(), /Invited, not agreed yet/, 'whose consent is pending')
    const listed = await call(s.kronus, { url: `/v1/users/${s.user.id}/contacts`, token: s.user.token })
    t.match(listed.body.data, [{ first_name: 'Grace', last_name: 'Hopper', consent_state: 'pending' }], 'Kronus has it')
    await page.locator('#announcer').getByText('Grace Hopper added: an invitation was texted to them.').waitFor()
    t.pass('the addition is announced')

    await row.getByRole('button', { name: 'Edit Grace Hopper' }).click()
    const edit = contacts.getByRole('form', { name: 'Edit Grace Hopper' })
    t.equal(await hasFocus(edit.getByLabel('First name')), true, 'editing starts in its first field')
    await edit.getByLabel('Last name').fill('Brewster Hopper')
    await edit.getByRole('button', { name: 'Save Grace Hopper' }).click()
    const renamed = contacts.getByRole('listitem').filter({ hasText: 'Grace Brewster Hopper' })
    await renamed.waitFor()
    t.pass('the edited name is shown')

    await renamed.getByRole('button', { name: 'Delete Grace Brewster Hopper' }).click()
    await contacts.getByRole('button', { name: 'Yes, delete Grace Brewster Hopper' }).click()
    await contacts.getByText('No contacts yet.').waitFor()
    const after = await call(s.kronus, { url: `/v1/users/${s.user.id}/contacts`, token: s.user.token })
    t.same(after.body.data, [], 'the contact is deleted')
    t.same(consoleErrors(page), [], 'no error in the browser console')
  })

  t.test('a person changes the schedule, seeing it in words and its next five times', async (t) => {
    const s = await consoleSetup(t)
    await emergencyContactOf(s, 'Mary')
    const page = await newPage(t, s)
    await signIn(page, s.url, s.user.email, s.user.password)
    const schedule = page.getByRole('region', { name: 'Schedule' })
    await schedule.getByLabel('Time zone').fill('Europe/Paris')
    await schedule.getByLabel('Schedule (cron)').fill('30 8 * * 1-5')
    const preview = schedule.locator('#schedule-preview')
    await preview.getByText('Next five, in Europe/Paris:').waitFor()
    await preview.locator('.preview-words').filter({ hasText: /08:30/ }).waitFor()
    t.match(await preview.locator('.preview-words').textContent(), /Monday to Friday/, 'the schedule in plain words')
    t.equal(await preview.locator('.next-times li').count(), 5, 'the next five times')
    t.match(await preview.locator('.next-times li').first().textContent(), /08:30 CET/, 'in the zone chosen')

    await schedule.getByLabel('Schedule (cron)').fill('* * * * *')
    await preview.locator('.preview-error').filter({ hasText: 'cron_expression' }).waitFor()
    t.pass('a schedule firing too often is refused in the preview, naming the field')

    await schedule.getByLabel('Schedule (cron)').fill('30 8 * * 1-5')
    await schedule.getByLabel('Check-ins on').check()
    await schedule.getByRole('button', { name: 'Save schedule' }).click()
    await page.locator('#announcer').getByText('Schedule saved.').waitFor()
    const user = await call(s.kronus, { url: `/v1/users/${s.user.id}`, token: s.user.token })
    t.match(
      user.body.data.probe_settings,
      { active: true, cron_expression: '30 8 * * 1-5', time_zone: 'Europe/Paris' },
      'Kronus has the new schedule'
    )
    await page.locator('#next-checkin').filter({ hasText: /08:30/ }).waitFor()
    t.pass('the next check-in shown is the new schedule’s')
    t.same(consoleErrors(page), [], 'no error in the browser console')
  })

  t.test('the page works on a 320 px wide phone: nothing wider than the screen', async (t) => {
    const s = await consoleSetup(t)
    await emergencyContactOf(s, 'Mary')
    const page = await newPage(t, s, { width: 320, height: 640 })
    await signIn(page, s.url, s.user.email, s.user.password)
    await page.getByRole('region', { name: 'Contacts' }).getByText('Mary Contact').waitFor()
    await page.locator('#schedule-preview .next-times li').first().waitFor()
    const width = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)
    t.ok(width <= 320, `the page is ${width} px wide: no sideways scrolling`)
    t.equal(
      await page.getByRole('link', { name: 'Skip to the content' }).getAttribute('href'),
      '#main',
      'a skip link leads past the menu'
    )
    t.same(consoleErrors(page), [], 'no error in the browser console')
  })
}
