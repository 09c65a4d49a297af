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
  // .ci/run installs chromium and sets this: there a missing browser fails the tests rather than skipping them.
  return existsSync(CHROMIUM) || process.env.KRONUS_REQUIRE_BROWSER === '1'
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

/**
 * Visible text whose contrast with what is behind it is under WCAG 2.2 AA (4.5:1, or 3:1
 * for large text: 24 px, or 18.66 px bold), as the browser computes the colours: each
 * element with text of its own against the first opaque background among it and its
 * ancestors. Each entry names the element, its text and the ratio found.
 */
export async function lowContrastTexts(page: Page): Promise<string[]> {
  // A script, not a function: the test's loader names functions with a helper the page lacks.
  return page.evaluate(CONTRAST_SCRIPT)
}

const CONTRAST_SCRIPT = String.raw`(() => {
  const rgba = (css) => (css.match(/[\d.]+/g) || []).map(Number)
  const channel = (c) => {
    const s = c / 255
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
  }
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
  const backgroundOf = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const c = rgba(getComputedStyle(at).backgroundColor)
      if (c.length === 3 || (c.length === 4 && c[3] >= 1)) return c.slice(0, 3)
    }
    return [255, 255, 255]
  }
  const failures = []
  for (const el of document.body.querySelectorAll('*')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '')
    if (!own || el.getClientRects().length === 0) continue
    const style = getComputedStyle(el)
    if (style.visibility === 'hidden' || Number(style.opacity) === 0) continue
    // The skip link waits off screen until it has the focus.
    if (el.getBoundingClientRect().bottom < 0) continue
    const fg = luminance(rgba(style.color))
    const bg = luminance(backgroundOf(el))
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)
    const size = Number.parseFloat(style.fontSize)
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700)
    if (ratio < (large ? 3 : 4.5))
      failures.push(el.tagName.toLowerCase() + ' "' + el.textContent.trim().slice(0, 40) + '" ' + ratio.toFixed(2) + ':1')
  }
  return failures
})()`
