import type { Knex } from 'knex'

/*
 * Many users whose probe is due, written straight to the database: creating hundreds
 * through the API would spend the test's time hashing passwords.
 */

export interface PopulationContact {
  id: number
  firstName: string
  phone: string
}

export interface PopulationUser {
  id: number
  firstName: string
  phone: string
  /** Emergency contacts, in the order they were marked. */
  contacts: PopulationContact[]
}

export interface PopulationOptions {
  users: number
  emergencyContactsPerUser: number
  /** A whole minute at or before now: every schedule fires then, and not again for a year. */
  fireAt: number
  /** Written as created_at/updated_at. */
  now: number
}

const BATCH = 100

function idOf(row: unknown): number {
  return Number(typeof row === 'object' && row !== null ? (row as { id: number | string }).id : row)
}

/** The yearly cron (UTC) whose one fire is at `fireAt`. */
export function yearlyCronAt(fireAt: number): string {
  if (fireAt % 60_000 !== 0) throw new Error('fireAt must be a whole minute')
  const at = new Date(fireAt)
  return `${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`
}

/** The last whole minute at or before `now`. */
export function minuteOf(now: number): number {
  return now - (now % 60_000)
}

/** Users whose schedules are due at `fireAt`, with the next fire a year later. */
export async function insertPopulation(knex: Knex, options: PopulationOptions): Promise<PopulationUser[]> {
  const { now } = options
  const cron = yearlyCronAt(options.fireAt)
  const users: PopulationUser[] = []
  for (let start = 0; start < options.users; start += BATCH) {
    const count = Math.min(BATCH, options.users - start)
    await knex.transaction(async (trx) => {
      const rows = Array.from({ length: count }, (_, k) => {
        const n = start + k
        return {
          first_name: `User${n}`,
          last_name: 'Many',
          email: `many${n}@example.com`,
          phone_number: `+1777${String(n).padStart(7, '0')}`,
          password_hash: 'not-a-hash: these users never log in',
          role_id: 2,
          created_at: now,
          updated_at: now
        }
      })
      const ids = (await trx('users').insert(rows).returning('id')).map(idOf)
      await trx('probe_settings').insert(
        ids.map((userId) => ({
          user_id: userId,
          active: true,
          cron_expression: cron,
          max_retries: 3,
          wait_time_in_minutes: 60,
          time_zone: 'UTC',
          next_fire_at: options.fireAt,
          created_at: now,
          updated_at: now
        }))
      )
      for (const [k, userId] of ids.entries()) {
        const n = start + k
        const contacts: PopulationContact[] = []
        for (let c = 0; c < options.emergencyContactsPerUser; c++) {
          const contact = {
            user_id: userId,
            first_name: `Contact${n}x${c}`,
            last_name: 'Many',
            phone_number: `+1888${String(n * 10 + c).padStart(7, '0')}`,
            email: null,
            is_emergency_contact: true,
            emergency_marked_at: now + c,
            created_at: now,
            updated_at: now
          }
          const [row] = await trx('contacts').insert(contact).returning('id')
          contacts.push({ id: idOf(row), firstName: contact.first_name, phone: contact.phone_number })
        }
        users.push({ id: userId, firstName: rows[k]!.first_name, phone: rows[k]!.phone_number, contacts })
      }
    })
  }
  return users
}
