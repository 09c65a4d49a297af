import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Boom from '@hapi/boom'
import Hapi, { type Plugin, type Request, type ResponseToolkit, type ServerRoute } from '@hapi/hapi'
import HapiPino from 'hapi-pino'
import type { ValidationError as JoiValidationError } from 'joi'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { KronusConfig } from '../config/types.js'
import type { Services } from '../services/index.js'
import { addressList } from '../util/address-list.js'
import { registerAuth } from './auth.js'
import { registerConsole } from './console.js'
import { registerErrorMapping } from './errors.js'
import { registerMetricsAccess } from './metrics-access.js'
import './types.js'

const ROUTES_DIR = fileURLToPath(new URL('./routes/', import.meta.url))
export const MAX_BODY_BYTES = 64 * 1024

/** Routes of dev mode only (`kronus server --dev`): without it they do not exist (404). */
const DEV_ROUTES_DIR = join(ROUTES_DIR, 'dev')

/** Every file under src/http/routes default-exports one route (or a list of them); routes/dev/ only in dev mode. */
async function loadRoutes(dev: boolean, dir = ROUTES_DIR): Promise<ServerRoute[]> {
  const routes: ServerRoute[] = []
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) {
      if (path !== DEV_ROUTES_DIR || dev) routes.push(...(await loadRoutes(dev, path)))
    } else if (/\.(ts|js)$/.test(entry) && !entry.endsWith('.d.ts')) {
      const mod = await import(pathToFileURL(path).href)
      routes.push(...[mod.default].flat())
    }
  }
  return routes
}

/** Joi failures become a 400 whose message names each offending field. */
function failAction(_request: Request, _h: ResponseToolkit, err?: Error): never {
  const details = (err as JoiValidationError | undefined)?.details
  const messages = details?.map((d) => d.message) ?? [err?.message ?? 'invalid request']
  throw Boom.badRequest(messages.join('; '))
}

/**
 * A response that does not match its documented schema is a Kronus bug: it is logged as
 * an error, but the client still gets its answer rather than a 500.
 */
function logResponseMismatch(request: Request, h: ResponseToolkit, err?: Error): symbol {
  request.logger.error(
    { err, method: request.method, route: request.route.path },
    'response does not match its documented schema'
  )
  return h.continue
}

/**
 * Every answered request into kronus_http_request_duration_seconds, labelled with its
 * route template (`/v1/users/{uid}`; `/{p*}` for a path no route serves), so a label's
 * values are bounded by the routes, whatever paths clients send.
 */
function observeLatency(server: Hapi.Server, services: Services): void {
  server.events.on('response', (request) => {
    const response = request.response
    const statusCode = Boom.isBoom(response) ? response.output.statusCode : (response?.statusCode ?? 0)
    const ended = request.info.responded || request.info.completed || Date.now()
    services.metrics.observeRequest({
      route: request.route.path,
      method: request.method,
      statusCode,
      seconds: Math.max(0, ended - request.info.received) / 1000
    })
  })
}

export interface HttpServerOptions {
  config: KronusConfig
  services: Services
  clock: Clock
  logger: Logger
  version: string
  /**
   * Serve /documentation and /swagger.json (the default). Only tests that do not look at
   * the API reference turn it off: hapi-swagger is the slowest part of building a server.
   */
  documentation?: boolean
}

const DOCUMENTATION_PATH = '/documentation'
const JSON_PATH = '/swagger.json'
/** hapi-swagger's default folder for the Swagger UI files the page loads. */
const SWAGGER_UI_PATH = '/swaggerui/'

/** A request for the API reference: the page, the generated description, or a Swagger UI file. */
function isDocumentationRequest(path: string): boolean {
  const route = path.length > 1 ? path.replace(/\/+$/, '') : path
  return route === DOCUMENTATION_PATH || route === JSON_PATH || path.startsWith(SWAGGER_UI_PATH)
}

/**
 * hapi-swagger adds the page and the Swagger UI files in a `server.dependency` callback, which
 * hapi runs as an onPreStart extension, so never on a server that has already started. Its
 * dependencies (inert, vision) are registered just before it, so the callback runs at once.
 */
function registeredLate(plugin: Plugin<object>): Plugin<object> {
  return {
    ...plugin,
    register(server, options) {
      const recordDependency = server.dependency.bind(server)
      server.dependency = (dependencies: string | string[], after?: (server: Hapi.Server) => Promise<void> | void) => {
        recordDependency(dependencies)
        return after?.(server)
      }
      return plugin.register(server, options)
    }
  } as Plugin<object>
}

/** hapi-swagger and the plugins it needs, registered on the running server. */
async function registerDocumentation(server: Hapi.Server, version: string): Promise<void> {
  // Before hapi-swagger loads swagger-ui-dist: see swagger-ui-assets.ts.
  await import('./swagger-ui-assets.js')
  const [{ default: Inert }, { default: Vision }, { default: HapiSwagger }] = await Promise.all([
    import('@hapi/inert'),
    import('@hapi/vision'),
    import('hapi-swagger')
  ])
  await server.register([
    Inert,
    Vision,
    {
      // Its types describe the module as the plugin itself; at run time it is { plugin }, as hapi also accepts.
      plugin: registeredLate((HapiSwagger as unknown as { plugin: Plugin<object> }).plugin),
      options: {
        info: { title: 'Kronus API', version },
        documentationPath: DOCUMENTATION_PATH,
        jsonPath: JSON_PATH,
        swaggerUIPath: SWAGGER_UI_PATH,
        grouping: 'tags',
        securityDefinitions: {
          jwt: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'Bearer <token>' }
        },
        security: [{ jwt: [] }]
      }
    }
  ])
}

/**
 * The API reference is loaded on its first request, before hapi looks the route up: hapi-swagger
 * and what it brings (the OpenAPI parser and validators, handlebars, lodash, inert, vision) are
 * about 7 MiB of a server's idle RSS that most servers, whose API nobody browses, never use
 * (docs/BENCHMARKS.md). Concurrent first requests wait for the same registration.
 */
function serveDocumentationOnDemand(server: Hapi.Server, version: string): void {
  let registered: Promise<void> | undefined
  server.ext('onRequest', async (request, h) => {
    if (!isDocumentationRequest(request.path)) return h.continue
    registered ??= registerDocumentation(server, version).catch((err: unknown) => {
      registered = undefined
      throw err
    })
    await registered
    return h.continue
  })
}

export async function createHttpServer({
  config,
  services,
  clock,
  logger,
  version,
  documentation = true
}: HttpServerOptions): Promise<Hapi.Server> {
  const server = Hapi.server({
    port: config.kronus.listener.port,
    host: config.kronus.listener.host,
    router: { stripTrailingSlash: true },
    routes: {
      validate: { failAction, options: { abortEarly: false } },
      response: { failAction: logResponseMismatch, sample: config.kronus.listener.responseValidationPercent },
      payload: { maxBytes: MAX_BODY_BYTES }
    }
  })
  server.app.services = services
  server.app.config = config
  server.app.clock = clock
  server.app.isTrustedProxy = addressList(config.kronus.listener.trustProxy)

  // The first Kronus parsed every API body as JSON whatever its Content-Type, and its
  // documented curl examples send none; keep those clients working.
  server.ext('onRequest', (request, h) => {
    const type = String(request.headers['content-type'] ?? '')
    const isApi = request.path === '/login' || request.path.startsWith('/v1/')
    const mayHaveBody = request.method !== 'get' && request.method !== 'head'
    if (
      isApi &&
      mayHaveBody &&
      (!type || type.startsWith('application/x-www-form-urlencoded') || type.startsWith('text/plain'))
    ) {
      request.headers['content-type'] = 'application/json'
    }
    return h.continue
  })

  await server.register({
    plugin: HapiPino,
    options: {
      instance: logger,
      ignorePaths: ['/health'],
      logPayload: false,
      logRequestStart: false
    }
  })
  await registerAuth(server, services)
  registerMetricsAccess(server, config)
  registerErrorMapping(server)
  observeLatency(server, services)

  if (documentation) serveDocumentationOnDemand(server, version)
  await registerConsole(server)
  server.route(await loadRoutes(config.dev))
  await server.initialize()
  return server
}
