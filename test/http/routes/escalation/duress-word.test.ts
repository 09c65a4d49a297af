import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser } from '../../../helpers/http.js'

/*
 * The duress word (issue 15, point 3) through PUT /v1/users/{uid}/escalation: write-only
 * (GET shows only whether one is set), stored hashed, never logged, and refused (400
 * naming why) when Kronus would already read it as an answer or a command.
 */

const WORD = 'Pineapple Express'

/** A Kronus whose every log line, at every level, is kept as text. */
async function loggedKronus(t: Parameters<typeof buildKronus>[0]) {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    }
  })
  const kronus = await buildKronus(t, { logger: pino({ level: 'trace' }, stream) })
  return { kronus, lines }
}

t.test('the duress word is write-only: GET shows only duress_word_set, the database only a salted hash', async (t) => {
  const { kronus, lines } = await loggedKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const url = `/v1/users/${user.id}/escalation`

  const set = await call(kronus, { method: 'PUT', url, token: user.token, payload: { duress_word: WORD } })
  t.equal(set.statusCode, 200)
  t.equal(set.body.data.duress_word_set, true)
  t.notOk('duress_word' in set.body.data, 'the PUT answer does not echo the word')
  t.notMatch(set.payload, /pineapple/i)
  t.same(
    { mode: set.body.data.mode, step_minutes: set.body.data.step_minutes },
    { mode: 'all', step_minutes: 10 },
    'the other settings keep their defaults'
  )

  for (const token of [user.token, admin.token]) {
    const got = await call(kronus, { url, token })
    t.equal(got.body.data.duress_word_set, true)
    t.notMatch(got.payload, /pineapple/i, 'GET never shows the word')
  }

  const row = await kronus.knex('escalation_settings').where({ user_id: user.id }).first()
  t.match(row.duress_word_hash, /^[0-9a-f]{32}:[0-9a-f]{64}$/, 'kept as salt:hash')
  t.notMatch(JSON.stringify(row), /pineapple/i)
  const events = await kronus.knex('events').select('payload')
  t.notMatch(JSON.stringify(events), /pineapple/i, 'no event holds the word')
  t.ok(lines.length > 0, 'the log was captured')
  t.notMatch(lines.join(''), /pineapple/i, 'the log never holds the word')

  const removed = await call(kronus, { method: 'PUT', url, token: user.token, payload: { duress_word: null } })
  t.equal(removed.statusCode, 200)
  t.equal(removed.body.data.duress_word_set, false)
  t.equal((await kronus.knex('escalation_settings').where({ user_id: user.id }).first()).duress_word_hash, null)
})

t.test('a duress word Kronus would read otherwise is a 400 naming why, and never echoed', async (t) => {
  const { kronus, lines } = await loggedKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const url = `/v1/users/${user.id}/escalation`
  const cases: Array<[string, RegExp]> = [
    ['ok', /at least 3|3 to 64/],
    ['okay', /already reads as an answer.*OK/],
    ["I'm fine", /already reads as an answer.*OK/],
    ['nope', /already reads as an answer.*a no/],
    ['help me', /already reads as an answer.*a call for help/],
    ['not good', /already reads as an answer.*a call for help/],
    ['STOP', /SMS command or carrier keyword/],
    ['probe 30', /SMS command or carrier keyword/],
    ['safe 42', /must not start with OK, YES or SAFE/],
    ['x'.repeat(65), /"duress_word"/],
    ['!!!!', /letters or digits/]
  ]
  for (const [word, why] of cases) {
    const res = await call(kronus, { method: 'PUT', url, token: user.token, payload: { duress_word: word } })
    t.equal(res.statusCode, 400, `"${word.slice(0, 10)}" refused`)
    t.match(res.body.errors.join(' '), why)
    t.match(res.payload, /duress_word/, 'names the field')
  }
  const row = await kronus.knex('escalation_settings').where({ user_id: user.id }).first()
  t.notOk(row?.duress_word_hash, 'nothing was set')
  t.notMatch(lines.join(''), /I'm fine|help me|not good|probe 30/, 'refused words are not logged either')

  const other = await createUser(kronus, admin)
  const forbidden = await call(kronus, { method: 'PUT', url, token: other.token, payload: { duress_word: WORD } })
  t.equal(forbidden.statusCode, 403, "nobody sets another user's word")
  const byAdmin = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { duress_word: WORD } })
  t.equal(byAdmin.statusCode, 403, 'not even an admin')
})
