import { existsSync, readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { CONSOLE_HEADERS } from '../../src/http/console.js'
import { buildKronus } from '../helpers/app.js'
import { call } from '../helpers/http.js'

/*
 * How the web console is served: its page at / and its files under /console/, each with
 * the strict CSP and the other security headers, nothing inline, nothing outside its
 * folders. Needs the built client (npm run build), as every test run has.
 */

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

t.test('the console page and its files carry the strict CSP and security headers', async (t) => {
  const kronus = await buildKronus(t)
  t.ok(existsSync(new URL('../../dist/console/main.js', import.meta.url)), 'the client is built (npm run build)')
  for (const [url, type] of [
    ['/', /^text\/html/],
    ['/console/main.js', /javascript/],
    ['/console/api.js', /javascript/],
    ['/console/console.css', /^text\/css/]
  ] as const) {
    const res = await call(kronus, { url })
    t.equal(res.statusCode, 200, `${url} is served`)
    t.match(String(res.headers['content-type']), type, `${url} has its type`)
    t.equal(res.headers['content-security-policy'], CSP, `${url} has the CSP`)
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${url} is not sniffed`)
    t.equal(res.headers['referrer-policy'], 'no-referrer', `${url} sends no referrer`)
  }
  t.equal(CONSOLE_HEADERS['content-security-policy'], CSP, 'the CSP is the one of the contract')
  const missing = await call(kronus, { url: '/console/nothing.js' })
  t.equal(missing.statusCode, 404, 'a file that does not exist is a 404')
  t.equal(missing.headers['content-security-policy'], CSP, 'which carries the CSP too')
  for (const url of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/src/main.ts']) {
    const res = await call(kronus, { url })
    t.not(res.statusCode, 200, `${url} is not served`)
  }
  const health = await call(kronus, { url: '/health' })
  t.equal(health.statusCode, 200, 'the API is unchanged')
  t.equal(health.headers['content-security-policy'], undefined, 'and its answers carry no console CSP')
})

t.test('the console page has no inline script, style or handler', async (t) => {
  const kronus = await buildKronus(t)
  const html = (await call(kronus, { url: '/' })).payload
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
  t.ok(scripts.length >= 1, 'the page loads a script')
  for (const [, attrs, body] of scripts) {
    t.match(attrs, /\bsrc="\/console\/[\w.-]+\.js"/, 'from /console/')
    t.equal(body!.trim(), '', 'with nothing inline')
  }
  t.notMatch(html, /<style\b/i, 'no <style> element')
  t.notMatch(html, /\sstyle=/i, 'no style attribute')
  t.notMatch(html, /\son[a-z]+=/i, 'no inline event handler')
  t.notMatch(html, /https?:\/\//, 'nothing from another origin')
  const built = new URL('../../dist/console/', import.meta.url)
  for (const file of readdirSync(built).filter((f) => f.endsWith('.js'))) {
    const client = readFileSync(new URL(file, built), 'utf8')
    t.notMatch(
      client,
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
      `${file} never turns strings into markup or code`
    )
    t.notMatch(client, /localStorage|sessionStorage|document\.cookie/, `${file} stores nothing in the browser`)
  }
})
