import { mkdirSync } from 'node:fs'
import { chromium, type Page } from 'playwright-core'
import { FakeClock } from '../../src/clock.js'
import { alarmsOf, buildScenario, checkIn, emergencyContactOf, text } from '../alarms/harness.js'
import { call, createContact } from '../helpers/http.js'
import { CHROMIUM, noBrowser } from './browser.js'

/*
 * `npm run screenshots`: the web console's main pages, at desktop and phone width, saved to
 * docs/console/*.png (the README shows one). A Kronus on a temp database with a person who
 * has contacts, a schedule, a check-in answered and an alarm acknowledged.
 */

const OUT = new URL('../../docs/console/', import.meta.url)
const DESKTOP = { width: 1280, height: 900 }
const PHONE = { width: 360, height: 780 }

const teardowns: Array<() => unknown> = []
const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) }

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, OUT).pathname, fullPage: true })
  console.log(`docs/console/${name}.png`)
}

async function main(): Promise<void> {
  const skip = noBrowser()
  if (skip) throw new Error(skip)
  mkdirSync(OUT, { recursive: true })
  // The clock starts now, so that "in 2 hours" next to a time is what a reader expects.
  const s = await buildScenario(t, { clock: new FakeClock(Date.now()) })
  await s.kronus.start()
  const mary = await emergencyContactOf(s, 'Mary', { last_name: 'Somerville', phone_number: '+447700900123' })
  await createContact(s.kronus, s.user, {
    first_name: 'Charles',
    last_name: 'Babbage',
    phone_number: '+447700900456',
    is_emergency_contact: true,
    consent_state: 'pending'
  })
  await createContact(s.kronus, s.user, { first_name: 'Annabella', last_name: 'Byron', phone_number: '+447700900789' })
  await checkIn(s)
  await text(s, s.user.phone_number, 'Yes')
  await checkIn(s)
  await text(s, s.user.phone_number, 'No.')
  const [alarm] = await alarmsOf(s)
  await text(s, mary.phone_number, `OK ${alarm.code}`)
  await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/probe_settings`,
    token: s.user.token,
    payload: {
      active: true,
      cron_expression: '0 9,18 * * *',
      time_zone: 'Europe/London',
      quiet_hours: { start: '22:30', end: '07:00' }
    }
  })

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  teardowns.push(() => browser.close())
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE]
  ] as const) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 })
    const page = await context.newPage()
    await page.goto(s.kronus.server.info.uri)
    await page.getByRole('heading', { name: 'Sign in to Kronus' }).waitFor()
    await shoot(page, `sign-in-${size}`)
    await page.getByLabel('Email').fill(s.user.email)
    await page.getByLabel('Password').fill(s.user.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { level: 1, name: 'Hello, Ada' }).waitFor()
    await page.locator('#schedule-preview .next-times li').first().waitFor()
    await page.locator(`#alarm-history details[data-alarm-id="${alarm.id}"]`).waitFor()
    await page.getByRole('region', { name: 'Escalation' }).getByRole('button', { name: 'Save escalation' }).waitFor()
    await shoot(page, `person-${size}`)
    await page.getByRole('button', { name: 'Sign out' }).click()

    await page.getByLabel('Email').fill(s.admin.email)
    await page.getByLabel('Password').fill(s.admin.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { level: 1, name: /^Hello/ }).waitFor()
    await page.getByRole('button', { name: 'Admin' }).click()
    await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor()
    await page.getByText('Loading…').first().waitFor({ state: 'detached' })
    await page.locator(`#open-alarms details[data-alarm-id="${alarm.id}"]`).waitFor()
    await shoot(page, `admin-${size}`)
    await context.close()
  }
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(async () => {
    for (const fn of teardowns.reverse()) await fn()
  })
