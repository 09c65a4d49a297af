import t from 'tap'
import { isPostgres } from '../../../src/db/dialect.js'
import { buildKronus } from '../../helpers/app.js'

t.test("probe_status_changes is indexed by user, for each user's last outcome", async (t) => {
  const kronus = await buildKronus(t)
  const knex = kronus.knex
  let names: string[]
  if (isPostgres(knex)) {
    const { rows } = await knex.raw(
      'SELECT indexname FROM pg_indexes WHERE tablename = ? AND schemaname = current_schema()',
      ['probe_status_changes']
    )
    names = rows.map((r: { indexname: string }) => r.indexname)
  } else {
    const rows = await knex.raw("PRAGMA index_list('probe_status_changes')")
    names = rows.map((r: { name: string }) => r.name)
  }
  t.ok(names.includes('probe_status_changes_user_id_id_index'), names.join(', '))
})
