import { existsSync } from 'node:fs'
import { type Browser, chromium, type Locator, type Page } from 'playwright-core'
import type { Test } from 'tap'
import { buildScenario, type Scenario } from '../alarms/harness.js'

/*
 * The web console in a real browser: Debian's chromium (`.ci/run` installs it) driven by
 * playwright-core, against a Kronus listening on a free loopback port (the alarm
 * scenario's: twilio-sms keywords, sms-commands, emergency-contact, a recording channel).
 * Every wait is for an element or a text, never for a length of time.
 */

export const CHROMIUM = process.env.KRONUS_CHROMIUM ?? '/usr/bin/chromium'

/** Why the browser tests cannot run here, or null when they can. */
export function noBrowser(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `no chromium at ${CHROMIUM} (apt-get install chromium, or set KRONUS_CHROMIUM): the web console's browser tests are skipped`
}

export interface ConsoleSetup extends Scenario {
  url: string
  browser: Browser
}

export async function launchBrowser(t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.teardown(() => browser.close())
  return browser
}

export async function consoleSetup(t: Test): Promise<ConsoleSetup> {
  const s = await buildScenario(t)
  await s.kronus.start()
  return { ...s, url: s.kronus.server.info.uri, browser: await launchBrowser(t) }
}

/**
 * A fresh page (desktop size unless told) that fails the test on any console error: a CSP
 * violation (an inline script or style, a foreign asset) is one.
 */
export async function newPage(
  t: Test,
  s: { browser: Browser; url: string },
  viewport = { width: 1280, height: 900 }
): Promise<Page> {
  const context = await s.browser.newContext({ viewport })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    // The browser logs every API answer of 4xx (a wrong password, a 400 the test provokes,
    // the dev phone's 404 outside dev mode): those are the API's to answer, not page errors.
    const from = new URL(message.location().url || 'about:blank', s.url).pathname
    if (message.text().startsWith('Failed to load resource') && /^\/(v1|dev|login|plugins)\b/.test(from)) return
    errors.push(`${message.text()} (${message.location().url})`)
  })
  page.on('pageerror', (err) => errors.push(String(err)))
  t.teardown(async () => {
    await context.close()
  })
  ;(page as any).consoleErrors = errors
  return page
}

/** Errors the page logged: a script error, a CSP violation, a console file missing. */
export function consoleErrors(page: Page): string[] {
  return (page as any).consoleErrors
}

export async function signIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(url)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: /^Hello, / }).waitFor()
}

/** Every visible form control's accessible name is not empty: each input is labelled. */
export async function unlabelledControls(page: Page): Promise<string[]> {
  // Runs in the page (the test's own types have no DOM).
  return page.evaluate(() => {
    const missing: string[] = []
    for (const el of (globalThis as any).document.querySelectorAll('input, select, textarea, button')) {
      if (el.offsetParent === null && el.getClientRects().length === 0) continue
      const labelled =
        el.labels?.length ||
        el.getAttribute('aria-label') ||
        el.getAttribute('aria-labelledby') ||
        (el.tagName === 'BUTTON' && el.textContent?.trim())
      if (!labelled) missing.push(el.outerHTML.slice(0, 120))
    }
    return missing
  })
}

/** Whether the element has the keyboard focus. */
export function hasFocus(locator: Locator): Promise<boolean> {
  return locator.evaluate((el: any) => el === el.ownerDocument.activeElement)
}

/** What the page keeps in the browser: local and session storage, cookies. */
export function storedInBrowser(page: Page): Promise<unknown[]> {
  return page.evaluate(() => {
    const w = globalThis as any
    return [w.localStorage.length, w.sessionStorage.length, w.document.cookie]
  })
}
