/** Ids of the seeded lookup rows; they match the first Kronus so existing clients see the same numbers. */
export const ROLE_ID = { admin: 1, basic: 2 } as const

export const PROBE_STATUS_ID = { pending: 1, good: 2, bad: 3, unavailable: 4, cancelled: 5 } as const
export type ProbeStatusName = keyof typeof PROBE_STATUS_ID
export const PROBE_STATUS_NAMES = Object.keys(PROBE_STATUS_ID) as ProbeStatusName[]

export const PAGE_SIZE = 100

/** Defaults given to a new user's probe settings, as in the first Kronus. */
export const DEFAULT_PROBE_SETTINGS = {
  active: false,
  cron_expression: '0 18 * * 3',
  max_retries: 3,
  wait_time_in_minutes: 60
} as const

/** An emergency contact's answer to their invitation (issue 15): pending until YES <code> or STOP. */
export const CONTACT_CONSENT_STATES = ['pending', 'agreed', 'refused'] as const
export type ContactConsentState = (typeof CONTACT_CONSENT_STATES)[number]
