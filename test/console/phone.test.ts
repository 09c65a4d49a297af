import t from 'tap'
import { createAdmin, createContact, createUser } from '../helpers/http.js'
import { buildSmsKronus } from '../plugins/twilio-sms/sms-kronus.js'
import { consoleErrors, launchBrowser, newPage, noBrowser, signIn } from './browser.js'

/*
 * The dev phone page of a dev server (`kronus server --dev`): a text typed there goes
 * through Kronus's real inbound handling and its reply is shown; what Kronus sends later
 * appears on its own, polled from GET /dev/texts. Outside dev mode the page is not offered.
 */

const skip = noBrowser()
if (skip) t.plan(0, skip)
else {
  t.test('on a dev server the phone page texts Kronus and shows what it sends', async (t) => {
    const { kronus } = await buildSmsKronus(t, { dev: true })
    const admin = await createAdmin(kronus)
    const user = await createUser(kronus, admin, { first_name: 'Ada' })
    await createContact(kronus, user, { is_emergency_contact: true })
    await kronus.start()
    const s = { url: kronus.server.info.uri, browser: await launchBrowser(t) }
    const page = await newPage(t, s)
    await signIn(page, s.url, admin.email, admin.password)
    await page.getByRole('button', { name: 'Dev phone' }).click()
    await page.getByRole('heading', { level: 1, name: 'Dev phone' }).waitFor()

    await page.getByLabel('From (a user or contact number)').fill(user.phone_number)
    await page.getByLabel('Text', { exact: true }).fill('PROBE')
    await page.getByRole('button', { name: 'Send text' }).click()
    const replies = page.locator('#phone-replies')
    await replies.getByText(/Kronus will check on you/).waitFor()
    t.match(await replies.textContent(), new RegExp(`${user.phone_number.replace('+', '\\+')}: PROBE`), 'the text sent')
    t.pass("and Kronus's reply (sms-commands) are shown")

    // The check-in asked for starts in 5 minutes: the server's own workers send it.
    kronus.clock.advanceMinutes(5)
    await kronus.queue.drain()
    const outbox = page.locator('#phone-outbox')
    await outbox.getByText(/Are you OK Ada\?/).waitFor()
    t.match(
      await outbox.textContent(),
      new RegExp(`Text to ${user.phone_number.replace('+', '\\+')}`),
      'the check-in text appears on its own'
    )
    t.same(consoleErrors(page), [], 'no error in the browser console')
  })

  t.test('outside dev mode there is no phone page', async (t) => {
    const { kronus } = await buildSmsKronus(t)
    const admin = await createAdmin(kronus)
    await kronus.start()
    const s = { url: kronus.server.info.uri, browser: await launchBrowser(t) }
    const page = await newPage(t, s)
    await signIn(page, s.url, admin.email, admin.password)
    await page.getByRole('button', { name: 'Admin' }).waitFor()
    t.equal(await page.getByRole('button', { name: 'Dev phone' }).count(), 0, 'the menu has no Dev phone')
  })
}
