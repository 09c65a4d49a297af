import t from 'tap'
import { fillAt, getAt, isAbsent, setAt } from '../../src/config/key-path.js'

t.test('setAt copies the path and leaves the original untouched', async (t) => {
  const plugin = { name: 'p', register() {} }
  const original = { kronus: { sqlite: { passPhrase: 'a' }, publicUrl: 'https://x.example' }, plugins: [plugin] }
  const changed = setAt(original, ['kronus', 'sqlite', 'passPhrase'], 'b')
  t.equal(original.kronus.sqlite.passPhrase, 'a')
  t.equal(changed.kronus.sqlite.passPhrase, 'b')
  t.equal(changed.kronus.publicUrl, 'https://x.example')
  t.equal(changed.plugins[0], plugin, 'other values are shared, not cloned')
  t.same(setAt({}, ['a', 'b'], 1), { a: { b: 1 } }, 'creates missing objects')
})

t.test('setAt keeps a wrong type in the way for validation to report', async (t) => {
  t.same(setAt({ kronus: 'oops' }, ['kronus', 'listener', 'port'], 1), { kronus: 'oops' })
})

t.test('fillAt only fills what is absent', async (t) => {
  t.same(fillAt({ a: { b: 'x' } }, ['a', 'b'], 'y'), { a: { b: 'x' } })
  for (const absent of [undefined, null, '']) {
    t.ok(isAbsent(absent))
    t.same(fillAt({ a: { b: absent } }, ['a', 'b'], 'y'), { a: { b: 'y' } })
  }
  t.notOk(isAbsent(0))
  t.notOk(isAbsent(false))
  t.equal(getAt({ a: 1 }, ['a', 'b']), undefined)
})
