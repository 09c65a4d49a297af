import t from 'tap'
import { BackupNames } from '../../../plugins/gcs-backup/names.js'

const T = Date.UTC(2026, 10, 29, 12, 0, 5, 42)

t.test('backup names carry their UTC time and sort in time order', async (t) => {
  const names = new BackupNames('/kronus/')
  t.equal(names.prefix, 'kronus', 'surrounding slashes are dropped')
  t.equal(names.backupAt(T), 'kronus/kronus-2026-11-29T12-00-05.042Z.db')
  t.equal(names.pointer, 'kronus/latest')
  t.equal(names.listPrefix, 'kronus/kronus-')
  t.equal(names.takenAt(names.backupAt(T)), T)
  const sorted = [T + 1, T + 86_400_000, T, T + 1000].map((ms) => names.backupAt(ms)).sort()
  t.same(
    sorted.map((name) => names.takenAt(name)),
    [T, T + 1, T + 1000, T + 86_400_000]
  )
})

t.test('only our own backup objects are recognised', async (t) => {
  const names = new BackupNames('kronus')
  for (const other of [
    'kronus/latest',
    'kronus/notes.txt',
    'kronus/kronus-bogus.db',
    'kronus/old/kronus-2026-11-29T12-00-05.042Z.db',
    'elsewhere/kronus-2026-11-29T12-00-05.042Z.db',
    'kronus-2026-11-29T12-00-05.042Z.db',
    'kronus/kronus-2026-13-29T12-00-05.042Z.db'
  ]) {
    t.equal(names.takenAt(other), null, other)
  }
})

t.test('resolve accepts a bare name or a full one, and nothing else', async (t) => {
  const names = new BackupNames('kronus')
  t.equal(names.resolve('kronus-2026-11-29T12-00-05.042Z.db'), 'kronus/kronus-2026-11-29T12-00-05.042Z.db')
  t.equal(names.resolve(' kronus/kronus-2026-11-29T12-00-05.042Z.db\n'), 'kronus/kronus-2026-11-29T12-00-05.042Z.db')
  t.equal(names.resolve('../kronus-2026-11-29T12-00-05.042Z.db'), null)
  t.equal(names.resolve('latest'), null)

  const root = new BackupNames('')
  t.equal(root.backupAt(T), 'kronus-2026-11-29T12-00-05.042Z.db')
  t.equal(root.pointer, 'latest')
  t.equal(root.resolve('kronus-2026-11-29T12-00-05.042Z.db'), 'kronus-2026-11-29T12-00-05.042Z.db')
  t.equal(root.takenAt('kronus/kronus-2026-11-29T12-00-05.042Z.db'), null)
})
