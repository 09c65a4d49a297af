import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Request, ResponseToolkit, Server } from '@hapi/hapi'
import Inert from '@hapi/inert'

/*
 * The web console: its page at `/`, its files under `/console/` (the client that
 * `npm run build` compiles from console/src into dist/console, and the hand-written
 * console/static). It is a client of the REST API like any other: these routes serve
 * files only, without authentication, and every answer carries a CSP that allows no inline
 * script or style and nothing from another origin.
 */

export const CONSOLE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Each build changes the files; a browser asks again rather than running an old client.
  'cache-control': 'no-cache'
}

/** The checkout or installed package: the nearest folder above this file with a package.json (src/ and dist/src/ alike). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('the Kronus package folder (with package.json) was not found')
    dir = parent
  }
  return dir
}

const NOT_BUILT =
  'The Kronus web console is not built: run `npm run build` in the Kronus folder, then reload. The REST API works without it.'

function withConsoleHeaders(request: Request, h: ResponseToolkit): symbol {
  const response = request.response
  if (!response) return h.continue
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) {
    if ('isBoom' in response && response.isBoom) response.output.headers[name] = value
    else if ('header' in response) response.header(name, value)
  }
  return h.continue
}

export async function registerConsole(server: Server): Promise<void> {
  const root = packageRoot()
  const built = join(root, 'dist', 'console')
  const statics = join(root, 'console', 'static')
  await server.register(Inert, { once: true })
  const ext = { onPreResponse: { method: withConsoleHeaders } }
  server.route([
    {
      method: 'GET',
      path: '/',
      options: {
        auth: false,
        ext,
        description: 'The web console',
        handler: (_request, h) =>
          existsSync(join(built, 'main.js'))
            ? h.file(join(statics, 'index.html'), { confine: false })
            : h.response(NOT_BUILT).code(503).type('text/plain; charset=utf-8')
      }
    },
    {
      method: 'GET',
      path: '/console/{file*}',
      options: {
        auth: false,
        ext,
        description: 'The web console: its script, style and source maps',
        handler: { directory: { path: [built, statics], index: false, listing: false, showHidden: false } }
      }
    }
  ])
}
