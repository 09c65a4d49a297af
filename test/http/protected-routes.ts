import { type TestUser, uniqueContactInput, uniqueUserInput } from '../helpers/http.js'

export type Caller = 'self' | 'other' | 'admin'

export interface Target {
  user: TestUser
  contactId: number
}

export interface RouteCase {
  name: string
  method: string
  url: (target: Target) => string
  payload?: () => unknown
  expected: Record<Caller, number>
}

/**
 * Every route that needs a token, with the status each kind of caller gets on the target
 * user's resources: `self` is the target, `other` another basic user, `admin` the admin.
 */
export const protectedRoutes: RouteCase[] = [
  { name: 'list users', method: 'GET', url: () => '/v1/users', expected: { self: 403, other: 403, admin: 200 } },
  {
    name: 'create user',
    method: 'POST',
    url: () => '/v1/users',
    payload: () => uniqueUserInput(),
    expected: { self: 403, other: 403, admin: 201 }
  },
  {
    name: 'get user',
    method: 'GET',
    url: (x) => `/v1/users/${x.user.id}`,
    expected: { self: 200, other: 403, admin: 200 }
  },
  {
    name: 'update user',
    method: 'PUT',
    url: (x) => `/v1/users/${x.user.id}`,
    payload: () => ({ first_name: 'changed' }),
    expected: { self: 200, other: 403, admin: 403 }
  },
  {
    name: 'delete user',
    method: 'DELETE',
    url: (x) => `/v1/users/${x.user.id}`,
    expected: { self: 200, other: 403, admin: 200 }
  },
  {
    name: 'list contacts',
    method: 'GET',
    url: (x) => `/v1/users/${x.user.id}/contacts`,
    expected: { self: 200, other: 403, admin: 403 }
  },
  {
    name: 'create contact',
    method: 'POST',
    url: (x) => `/v1/users/${x.user.id}/contacts`,
    payload: () => uniqueContactInput(),
    expected: { self: 201, other: 403, admin: 403 }
  },
  {
    name: 'update contact',
    method: 'PUT',
    url: (x) => `/v1/users/${x.user.id}/contacts/${x.contactId}`,
    payload: () => ({ last_name: 'changed' }),
    expected: { self: 200, other: 403, admin: 403 }
  },
  {
    name: 'delete contact',
    method: 'DELETE',
    url: (x) => `/v1/users/${x.user.id}/contacts/${x.contactId}`,
    expected: { self: 200, other: 403, admin: 403 }
  },
  {
    // The target contact is no emergency contact: the owner is told so (409), nobody else gets that far.
    name: 'invite contact again',
    method: 'POST',
    url: (x) => `/v1/users/${x.user.id}/contacts/${x.contactId}/invite`,
    expected: { self: 409, other: 403, admin: 403 }
  },
  {
    name: 'update probe settings',
    method: 'PUT',
    url: (x) => `/v1/users/${x.user.id}/probe_settings`,
    payload: () => ({ max_retries: 5 }),
    expected: { self: 200, other: 403, admin: 403 }
  },
  {
    name: 'list probes',
    method: 'GET',
    url: (x) => `/v1/users/${x.user.id}/probes`,
    expected: { self: 200, other: 403, admin: 200 }
  },
  {
    name: 'get escalation settings',
    method: 'GET',
    url: (x) => `/v1/users/${x.user.id}/escalation`,
    expected: { self: 200, other: 403, admin: 200 }
  },
  {
    name: 'update escalation settings',
    method: 'PUT',
    url: (x) => `/v1/users/${x.user.id}/escalation`,
    payload: () => ({ repeats: 1 }),
    expected: { self: 200, other: 403, admin: 403 }
  },
  {
    name: "list a user's alarms",
    method: 'GET',
    url: (x) => `/v1/users/${x.user.id}/alarms`,
    expected: { self: 200, other: 403, admin: 200 }
  },
  {
    name: 'preview a schedule',
    method: 'GET',
    url: () => '/v1/schedule/preview?cron_expression=0+9+*+*+*',
    expected: { self: 200, other: 200, admin: 200 }
  },
  {
    name: "get a user's status",
    method: 'GET',
    url: (x) => `/v1/users/${x.user.id}/status`,
    expected: { self: 200, other: 403, admin: 200 }
  },
  { name: 'list statuses', method: 'GET', url: () => '/v1/statuses', expected: { self: 403, other: 403, admin: 200 } },
  { name: 'list all alarms', method: 'GET', url: () => '/v1/alarms', expected: { self: 403, other: 403, admin: 200 } },
  {
    name: 'list limits reached',
    method: 'GET',
    url: () => '/v1/limits/reached',
    expected: { self: 403, other: 403, admin: 200 }
  },
  {
    // No alarm has been raised here: an admin gets past the access check to the 404.
    name: 'close an alarm',
    method: 'POST',
    url: () => '/v1/alarms/1/resolve',
    payload: () => ({ note: 'a false alarm' }),
    expected: { self: 403, other: 403, admin: 404 }
  }
]
