import type { Knex } from 'knex'
import { withMigrationLock } from '../migration-lock.js'
import * as m0001 from './0001_foundation.js'
import * as m0002 from './0002_job_queue.js'
import * as m0003 from './0003_events.js'
import * as m0004 from './0004_probes.js'
import * as m0006 from './0006_webhooks.js'
import * as m0007 from './0007_inbound_messages.js'
import * as m0008 from './0008_emergency_alert_deliveries.js'
import * as m0009 from './0009_jobs_by_name.js'
import * as m0010 from './0010_plugin_migrations.js'
import * as m0011 from './0011_token_versions_and_login_throttle.js'
import * as m0012 from './0012_message_sends.js'
import * as m0013 from './0013_alarms.js'
import * as m0014 from './0014_engine_alarm_first_names.js'
import * as m0016 from './0016_job_priority_index.js'
import * as m0017 from './0017_quiet_hours_and_pause.js'
import * as m0018 from './0018_duress_and_checkin_link.js'
import * as m0019 from './0019_contact_consent.js'
import * as m0020 from './0020_text_allowance.js'
import * as m0021 from './0021_jobs_notify.js'
import * as m0022 from './0022_watchdog.js'
import * as m0023 from './0023_status_changes_by_user.js'
import * as m0024 from './0024_probes_status_created_at_index.js'
import * as m0025 from './0025_events_hidden_from_user.js'
import * as m0028 from './0028_alarms_probe_id_index.js'
import * as m0029 from './0029_drop_jobs_name_status_run_at_index.js'
import * as m0030 from './0030_jobs_partial_indexes.js'
import * as m0031 from './0031_watchdog_off_the_queue.js'

interface Migration {
  up(knex: Knex): Promise<void>
  down(knex: Knex): Promise<void>
}

/**
 * Migrations in order. Add new ones at the end with the next number; never edit one
 * that has shipped, since databases in the field have already run it.
 */
const migrations: Array<[string, Migration]> = [
  ['0001_foundation', m0001],
  ['0002_job_queue', m0002],
  ['0003_events', m0003],
  ['0004_probes', m0004],
  ['0006_webhooks', m0006],
  ['0007_inbound_messages', m0007],
  ['0008_emergency_alert_deliveries', m0008],
  ['0009_jobs_by_name', m0009],
  ['0010_plugin_migrations', m0010],
  ['0011_token_versions_and_login_throttle', m0011],
  ['0012_message_sends', m0012],
  ['0013_alarms', m0013],
  ['0014_engine_alarm_first_names', m0014],
  ['0016_job_priority_index', m0016],
  ['0017_quiet_hours_and_pause', m0017],
  ['0018_duress_and_checkin_link', m0018],
  ['0019_contact_consent', m0019],
  ['0020_text_allowance', m0020],
  ['0021_jobs_notify', m0021],
  ['0022_watchdog', m0022],
  ['0023_status_changes_by_user', m0023],
  ['0024_probes_status_created_at_index', m0024],
  ['0025_events_hidden_from_user', m0025],
  ['0028_alarms_probe_id_index', m0028],
  ['0029_drop_jobs_name_status_run_at_index', m0029],
  ['0030_jobs_partial_indexes', m0030],
  ['0031_watchdog_off_the_queue', m0031]
]

export const migrationSource: Knex.MigrationSource<[string, Migration]> = {
  getMigrations: async () => migrations,
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration
}

/**
 * Brings the core tables up to date, then runs `after` (the configured plugins' migrations,
 * which may refer to core tables) under the same lock, so an instance never sees the core
 * migrated and a plugin's tables half made by another.
 */
export async function migrateLatest(knex: Knex, after?: (knex: Knex) => Promise<void>): Promise<void> {
  await withMigrationLock(knex, async () => {
    await knex.migrate.latest({ migrationSource })
    await after?.(knex)
  })
}
