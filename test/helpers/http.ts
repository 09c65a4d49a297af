import { createHmac, createPrivateKey, type KeyObject, randomUUID } from 'node:crypto'
import Jwt from '@hapi/jwt'
import type { Kronus } from '../../src/app.js'
import { contactInviteTextKey, messageSendKey } from '../../src/queue/keys.js'

/*
 * Requests against a Kronus in the shapes the REST contract uses. Every response body
 * goes through assertNoSecrets, so any test that calls the API also proves that no
 * password or hash ever leaves the server.
 */

export interface ApiResponse {
  statusCode: number
  headers: Record<string, string | string[] | number | undefined>
  payload: string
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: any
}

export interface ApiRequest {
  method?: string
  url: string
  token?: string
  payload?: unknown
  headers?: Record<string, string>
  remoteAddress?: string
}

let sequence = 0

/** Field values no other call of this helper has used, so emails and phones never collide. */
export function uniqueUserInput(overrides: Record<string, unknown> = {}): Record<string, any> {
  sequence += 1
  return {
    first_name: `first${sequence}`,
    last_name: `last${sequence}`,
    email: `user${sequence}-${process.pid}@example.com`,
    phone_number: `+1555${String(sequence).padStart(7, '0')}`,
    password: `pw-${sequence}-secret`,
    ...overrides
  }
}

export function uniqueContactInput(overrides: Record<string, unknown> = {}): Record<string, any> {
  sequence += 1
  return {
    first_name: `contact${sequence}`,
    last_name: 'person',
    phone_number: `+1666${String(sequence).padStart(7, '0')}`,
    email: `contact${sequence}@example.com`,
    is_emergency_contact: false,
    ...overrides
  }
}

function findSecretKeys(value: unknown, path: string, found: string[]): void {
  if (Array.isArray(value)) value.forEach((item, i) => findSecretKeys(item, `${path}[${i}]`, found))
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (/password/i.test(key)) found.push(`${path}.${key}`)
      findSecretKeys(inner, `${path}.${key}`, found)
    }
  }
}

/** Throws when a response carries a password field or an argon2 hash anywhere. */
export function assertNoSecrets(response: { payload: string; body: unknown }, where: string): void {
  const found: string[] = []
  findSecretKeys(response.body, '$', found)
  if (found.length > 0) throw new Error(`${where}: response exposes ${found.join(', ')}`)
  if (response.payload.includes('$argon2')) throw new Error(`${where}: response contains a password hash`)
}

export function authHeader(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

export async function call(kronus: Pick<Kronus, 'server'>, request: ApiRequest): Promise<ApiResponse> {
  const method = request.method ?? 'GET'
  const res = await kronus.server.inject({
    method,
    url: request.url,
    payload: request.payload as any,
    headers: { ...(request.token ? authHeader(request.token) : {}), ...request.headers },
    ...(request.remoteAddress ? { remoteAddress: request.remoteAddress } : {})
  })
  let body: unknown
  try {
    body = JSON.parse(res.payload)
  } catch {
    body = undefined
  }
  const response: ApiResponse = { statusCode: res.statusCode, headers: res.headers, payload: res.payload, body }
  assertNoSecrets(response, `${method} ${request.url}`)
  return response
}

function expectStatus(res: ApiResponse, code: number, what: string): void {
  if (res.statusCode !== code) throw new Error(`${what}: expected ${code}, got ${res.statusCode} ${res.payload}`)
}

export async function login(kronus: Pick<Kronus, 'server'>, email: string, password: string): Promise<string> {
  const res = await call(kronus, { method: 'POST', url: '/login', payload: { email, password } })
  expectStatus(res, 200, `login ${email}`)
  return res.body.data.token as string
}

export interface TestUser {
  id: number
  email: string
  password: string
  phone_number: string
  token: string
  /** The user as the API returned it on creation. */
  record: any
}

/** The first sign-up: no token needed, and it makes the admin. */
export async function createAdmin(
  kronus: Pick<Kronus, 'server'>,
  overrides: Record<string, unknown> = {}
): Promise<TestUser> {
  const input = uniqueUserInput(overrides)
  const res = await call(kronus, { method: 'POST', url: '/v1/users', payload: input })
  expectStatus(res, 201, 'first sign-up')
  const token = await login(kronus, input.email, input.password)
  return {
    id: res.body.data.id,
    email: input.email,
    password: input.password,
    phone_number: input.phone_number,
    token,
    record: res.body.data
  }
}

/** A basic user created by the admin. */
export async function createUser(
  kronus: Pick<Kronus, 'server'>,
  admin: TestUser,
  overrides: Record<string, unknown> = {}
): Promise<TestUser> {
  const input = uniqueUserInput(overrides)
  const res = await call(kronus, { method: 'POST', url: '/v1/users', token: admin.token, payload: input })
  expectStatus(res, 201, 'user creation')
  const token = await login(kronus, input.email, input.password)
  return {
    id: res.body.data.id,
    email: input.email,
    password: input.password,
    phone_number: input.phone_number,
    token,
    record: res.body.data
  }
}

/**
 * A contact made through the API. An emergency contact comes back `agreed` (see
 * agreedBeforeTheTest) unless `consent_state: 'pending'` is asked for: tests of consent
 * itself keep the invitation and answer it through the real YES path.
 */
export async function createContact(
  kronus: Pick<Kronus, 'server' | 'knex'>,
  owner: TestUser,
  overrides: Record<string, unknown> = {}
): Promise<any> {
  const { consent_state, ...input } = overrides
  const res = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${owner.id}/contacts`,
    token: owner.token,
    payload: uniqueContactInput(input)
  })
  expectStatus(res, 201, 'contact creation')
  const contact = res.body.data
  return contact.is_emergency_contact && consent_state !== 'pending' ? agreedBeforeTheTest(kronus, contact) : contact
}

/**
 * TEST-ONLY SHORTCUT: the emergency contact as if they had agreed before the test began,
 * as an upgrade leaves existing emergency contacts (migration 0019): `agreed`, and their
 * invitation text, still queued, taken back so it does not count among the texts a test
 * looks at. Tests of consent itself use the real path (YES <code> from the contact's phone).
 */
export async function agreedBeforeTheTest(kronus: Pick<Kronus, 'knex'>, contact: { id: number }): Promise<any> {
  const row = await kronus.knex('contacts').where({ id: contact.id }).first('invited_at')
  if (row?.invited_at != null) {
    const key = messageSendKey(contactInviteTextKey(contact.id, Number(row.invited_at)))
    await kronus.knex('jobs').where({ live_key: key }).del()
  }
  await kronus
    .knex('contacts')
    .where({ id: contact.id })
    .update({ consent_state: 'agreed', consent_code: null, consent_at: row?.invited_at ?? null })
  return { ...contact, consent_state: 'agreed', consent_at: (contact as any).invited_at ?? null }
}

/* Tokens an attacker could make. */

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

export interface ForgedClaims {
  sub: string
  iss?: string
  aud?: string
  jti?: string
  ver?: number
  first_name?: string
  last_name?: string
  is_admin?: boolean
  iat?: number
  exp?: number
}

function withTimes(claims: ForgedClaims, nowMs: number): ForgedClaims {
  const iat = Math.floor(nowMs / 1000)
  const defaults = {
    iss: 'kronus',
    aud: 'kronus-api',
    jti: randomUUID(),
    ver: 0,
    first_name: 'x',
    last_name: 'y',
    is_admin: true
  }
  return { ...defaults, iat, exp: iat + 3600, ...claims }
}

/** A correctly formed RS256 token signed with any RSA private key. */
export function signRs256(privateKeyPem: string | KeyObject, claims: ForgedClaims, nowMs: number): string {
  const key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem
  return Jwt.token.generate(
    withTimes(claims, nowMs),
    { key: key as unknown as string, algorithm: 'RS256' },
    { iat: false }
  )
}

/** An unsigned token (`alg: none`). */
export function unsignedToken(claims: ForgedClaims, nowMs: number): string {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(withTimes(claims, nowMs))}.`
}

/** The classic key-confusion attack: HS256 keyed with the server's own public key. */
export function hs256Token(secret: string, claims: ForgedClaims, nowMs: number): string {
  const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(withTimes(claims, nowMs))}`
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`
}

/** Splits a JWT into its decoded header and payload. */
export function decodeToken(token: string): { header: any; payload: any; signingInput: string; signature: Buffer } {
  const [header, payload, signature] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString()),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature ?? '', 'base64url')
  }
}
