import type { Knex } from 'knex'
import { isPostgres } from '../../src/db/knex.js'
import { PROBE_STATUS_ID, ROLE_ID } from '../../src/domain/constants.js'

// knex writes a multi-row SQLite insert as a compound SELECT, which SQLite caps at 500 terms.
const CHUNK = 400

export interface SeedOptions {
  users: number
  /** Stored as every user's next_fire_at. */
  nextFireAt: number
  /** Every user's schedule (UTC). */
  cron: string
  /** Finished probes per user, for the API's probe list. Default 0. */
  probesPerUser?: number
}

async function insertChunked(
  trx: Knex.Transaction,
  table: string,
  count: number,
  row: (i: number) => Record<string, unknown>
): Promise<void> {
  for (let start = 0; start < count; start += CHUNK) {
    const rows: Record<string, unknown>[] = []
    for (let i = start; i < Math.min(count, start + CHUNK); i++) rows.push(row(i))
    await trx(table).insert(rows)
  }
}

/**
 * Users 1..N, each with an active schedule and one emergency contact, written straight
 * through knex in one transaction: setup is not what is measured, and going through the
 * API (argon2 per user) would take longer than the benchmark itself.
 */
export async function seedUsers(knex: Knex, options: SeedOptions): Promise<void> {
  const now = Date.now()
  const { users, nextFireAt, cron } = options
  await knex.transaction(async (trx) => {
    await insertChunked(trx, 'users', users, (i) => ({
      id: i + 1,
      first_name: `First${i + 1}`,
      last_name: `Last${i + 1}`,
      email: `bench${i + 1}@example.com`,
      phone_number: `+1555${String(i + 1).padStart(7, '0')}`,
      // Never used to log in: the API benchmark signs its token directly.
      password_hash: 'not-a-password-hash',
      role_id: ROLE_ID.basic,
      created_at: now,
      updated_at: now
    }))
    await insertChunked(trx, 'probe_settings', users, (i) => ({
      user_id: i + 1,
      active: true,
      cron_expression: cron,
      max_retries: 2,
      wait_time_in_minutes: 30,
      time_zone: 'UTC',
      next_fire_at: nextFireAt,
      created_at: now,
      updated_at: now
    }))
    await insertChunked(trx, 'contacts', users, (i) => ({
      user_id: i + 1,
      first_name: `Contact${i + 1}`,
      last_name: 'Person',
      phone_number: `+1666${String(i + 1).padStart(7, '0')}`,
      email: null,
      is_emergency_contact: true,
      emergency_marked_at: now,
      created_at: now,
      updated_at: now
    }))
    const probesPerUser = options.probesPerUser ?? 0
    if (probesPerUser > 0) {
      await insertChunked(trx, 'probes', users * probesPerUser, (i) => ({
        user_id: Math.floor(i / probesPerUser) + 1,
        probe_status_id: PROBE_STATUS_ID.good,
        last_response: 'Y',
        retry_count: 0,
        max_retries: 2,
        wait_time_in_minutes: 30,
        origin: 'scheduled',
        pending_user_id: null,
        created_at: now - (probesPerUser - (i % probesPerUser)) * 86_400_000,
        updated_at: now
      }))
    }
    if (isPostgres(trx)) {
      // Explicit ids leave the serial behind; later inserts through the app must not collide.
      for (const table of ['users', 'probe_settings', 'contacts', 'probes']) {
        await trx.raw(
          `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT coalesce(max(id), 1) FROM ${table}))`
        )
      }
    }
  })
}

/** A daily schedule at the UTC minute of `at`, which must be a whole minute. */
export function dailyCronAt(at: number): string {
  const d = new Date(at)
  if (d.getUTCSeconds() !== 0 || d.getUTCMilliseconds() !== 0) throw new Error('fire time must be a whole minute')
  return `${d.getUTCMinutes()} ${d.getUTCHours()} * * *`
}
