import type { Knex } from 'knex'
import { isPostgres } from '../knex.js'

/*
 * PostgreSQL only: every INSERT into `jobs` that stores rows sends one notification on
 * the channel `kronus_jobs:<schema>` (src/queue/wake-listener.ts), delivered when the
 * transaction commits, so workers on every instance start the jobs at once instead of
 * polling for them. One per statement, not per row: a fan-out inserting 500 jobs in one
 * statement wakes each worker once. The payload says what came (JSON): the earliest
 * run_at, the names, and the highest priority, so a worker claims only what is due and
 * asks only for those names. SQLite has no other process to tell; its workers poll.
 */
const FUNCTION = 'kronus_jobs_notify'
const TRIGGER = 'jobs_notify_on_insert'

export async function up(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return
  await knex.raw(`
    CREATE FUNCTION ${FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      inserted json;
    BEGIN
      SELECT json_build_object('runAt', min(run_at), 'names', json_agg(DISTINCT name), 'priority', max(priority))
        INTO inserted FROM new_jobs HAVING count(*) > 0;
      IF inserted IS NOT NULL THEN
        PERFORM pg_notify('kronus_jobs:' || TG_TABLE_SCHEMA, inserted::text);
      END IF;
      RETURN NULL;
    END
    $$`)
  await knex.raw(
    `CREATE TRIGGER ${TRIGGER} AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_jobs FOR EACH STATEMENT EXECUTE FUNCTION ${FUNCTION}()`
  )
}

export async function down(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return
  await knex.raw(`DROP TRIGGER IF EXISTS ${TRIGGER} ON jobs`)
  await knex.raw(`DROP FUNCTION IF EXISTS ${FUNCTION}()`)
}
