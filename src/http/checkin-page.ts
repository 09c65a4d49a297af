import { createHash } from 'node:crypto'
import type { Request, ResponseObject, ResponseToolkit } from '@hapi/hapi'
import { NotFoundError, RateLimitedError } from '../domain/errors.js'

/*
 * The check-in link's page (GET and POST /c/{token}): one small accessible HTML page, no
 * script, no external assets. Its one inline style is allowed by hash in a strict
 * Content-Security-Policy; the token in the URL is kept out of Referer headers, caches
 * and search engines.
 */

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5}' +
  'button{font-size:1.5rem;padding:1rem 2rem;min-width:12rem;border-radius:.5rem}'

const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'"
].join('; ')

const HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex, nofollow',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY'
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`
}

/** The page with the one button; it posts to its own URL. */
export const CHECK_IN_PAGE = page(
  'Kronus check-in',
  `<h1>Kronus check-in</h1>
<p>Press the button to tell Kronus you are OK. It answers a check-in waiting for you, or counts as your next one if it comes soon.</p>
<form method="post">
<button type="submit">I'm OK</button>
</form>`
)

export const RECORDED_PAGE = page(
  'Thanks, recorded',
  '<h1>Thanks, recorded</h1><p>Kronus has noted that you are OK.</p>'
)

const NOT_FOUND_PAGE = page(
  'Link not found',
  '<h1>Link not found</h1><p>This check-in link does not work (it may have been replaced). Create a new one in Kronus.</p>'
)
const TOO_MANY_PAGE = page('Too many requests', '<h1>Too many requests</h1><p>Please try again later.</p>')

/** JSON when the client asks for it (a shortcut, a home-automation ping); the page otherwise. */
export function wantsJson(request: Request): boolean {
  return String(request.headers.accept ?? '').includes('application/json')
}

export function htmlResponse(h: ResponseToolkit, html: string, status = 200): ResponseObject {
  const response = h.response(html).code(status).type('text/html; charset=utf-8')
  for (const [name, value] of Object.entries(HEADERS)) response.header(name, value)
  return response
}

/**
 * Runs a check-in link action: for a client that asked for JSON, domain errors go to the
 * usual error mapping (404, 429 with Retry-After); for a browser they become the page's
 * own 404 and 429, with the same status codes.
 */
export async function asPage(
  request: Request,
  h: ResponseToolkit,
  action: () => Promise<ResponseObject>
): Promise<ResponseObject> {
  try {
    return await action()
  } catch (err) {
    if (wantsJson(request)) throw err
    if (err instanceof NotFoundError) return htmlResponse(h, NOT_FOUND_PAGE, 404)
    if (err instanceof RateLimitedError)
      return htmlResponse(h, TOO_MANY_PAGE, 429).header('retry-after', String(err.retryAfterSec))
    throw err
  }
}
