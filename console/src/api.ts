/*
 * The console's one way to talk to Kronus: the REST API on the same origin. The access
 * token lives in this module's memory only (never in the browser's storage): a
 * reload, or closing the tab, signs out.
 */

let token: string | null = null

/** An error answer of the API: its status and the messages it gave (they name the field). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly messages: string[]
  ) {
    super(messages.join('; ') || `The server answered ${status}`)
  }
}

export interface Paged<T> {
  data: T[]
  paging: { total: number; page: number; pages: number }
}

async function request(method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch {
    throw new ApiError(0, ['Kronus could not be reached: check that the server is running, then try again'])
  }
  const text = await response.text()
  let json: any
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  if (!response.ok || json?.success === false) {
    if (response.status === 401 && token) {
      token = null
      window.dispatchEvent(new Event('kronus:signed-out'))
    }
    const messages: string[] = Array.isArray(json?.errors)
      ? json.errors
      : [json?.message ?? `The server answered ${response.status}`]
    throw new ApiError(response.status, messages)
  }
  return json
}

/** The `data` of a `{ success, data }` answer. */
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return (await request(method, path, body))?.data as T
}

/** A paged list: its items and its paging. */
export async function apiPage<T = any>(path: string): Promise<Paged<T>> {
  const json = await request('GET', path)
  return { data: json.data, paging: json.paging }
}

/** The same, or null when this server has no such route (an older Kronus, or not in dev mode). */
export async function apiIfPresent<T = any>(path: string): Promise<T | null> {
  try {
    return await api<T>('GET', path)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null
    throw err
  }
}

export async function signIn(email: string, password: string): Promise<void> {
  const data = await api<{ token: string }>('POST', '/login', { email, password })
  token = data.token
}

export async function signOut(): Promise<void> {
  try {
    if (token) await api('POST', '/v1/logout')
  } finally {
    token = null
  }
}

/** The signed-in user's id: the `sub` claim of the token (Kronus checks the signature, not us). */
export function signedInUserId(): number | null {
  if (!token) return null
  const payload = token.split('.')[1] ?? ''
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')))
    return Number(json.sub) || null
  } catch {
    return null
  }
}
