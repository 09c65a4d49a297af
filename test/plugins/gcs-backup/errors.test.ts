import t from 'tap'
import { BackupError, describe, httpStatusOf, isTransient } from '../../../plugins/gcs-backup/errors.js'

t.test('server trouble, throttling and dropped connections are worth retrying; the rest are not', async (t) => {
  const withStatus = (status: number) => Object.assign(new Error('x'), { code: status })
  t.equal(isTransient(withStatus(503)), true)
  t.equal(isTransient(withStatus(500)), true)
  t.equal(isTransient(withStatus(429)), true)
  t.equal(isTransient(withStatus(408)), true)
  t.equal(isTransient(withStatus(403)), false, 'a permission problem needs a human')
  t.equal(isTransient(withStatus(404)), false)
  t.equal(isTransient(Object.assign(new Error('x'), { response: { status: 502 } })), true, 'gaxios errors')
  t.equal(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), true)
  t.equal(
    isTransient(new Error('Retry limit exceeded - status: 503')),
    true,
    'the resumable uploader gave up on a retryable error'
  )
  t.equal(isTransient(new Error('invalid_grant')), false)
})

t.test('httpStatusOf reads whichever layer carries the status', async (t) => {
  t.equal(httpStatusOf({ code: 412 }), 412)
  t.equal(httpStatusOf({ response: { status: 404 } }), 404)
  t.equal(httpStatusOf({ code: 'ECONNRESET' }), undefined)
  t.equal(httpStatusOf(null), undefined)
  t.equal(describe(Object.assign(new Error('Forbidden'), { code: 403 })), 'HTTP 403: Forbidden')
})

t.test('a BackupError is retryable for transfer problems unless told otherwise', async (t) => {
  t.equal(new BackupError('transfer', 'x').retryable, true)
  t.equal(new BackupError('corrupt-transfer', 'x').retryable, true)
  t.equal(new BackupError('no-backup', 'x').retryable, false)
  t.equal(new BackupError('transfer', 'x', { retryable: false }).retryable, false)
  const cause = new Error('root')
  t.equal(new BackupError('transfer', 'x', { cause }).cause, cause)
})
