import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CRC32C } from '@google-cloud/storage'
import t, { type Test } from 'tap'
import { crc32c, crc32cBase64, FakeGcsApi, md5Base64, RESUMABLE_CHUNK_QUANTUM } from './gcs-api.js'

const BUCKET = 'kronus-backups'
const NOW = Date.UTC(2026, 0, 5, 12)

async function startFake(t: Test) {
  const fake = await FakeGcsApi.start({ buckets: [BUCKET], now: () => NOW })
  t.teardown(() => fake.close())
  return fake
}

function tempFile(t: Test, bytes: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-fake-gcs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'data.bin')
  writeFileSync(file, bytes)
  return file
}

function errorOf(promise: Promise<unknown>): Promise<{ code?: unknown; message: string }> {
  return promise.then(
    () => ({ message: 'resolved' }),
    (e: { code?: unknown; message: string }) => e
  )
}

t.test('crc32c matches the Castagnoli check values and the client', async (t) => {
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  t.equal(crc32c(Buffer.alloc(0)), 0)
  t.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa)
  t.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43)
  const data = randomBytes(100_003)
  const client = new CRC32C()
  client.update(data)
  t.equal(crc32cBase64(data), client.toString(), 'same base64 big-endian form as @google-cloud/storage')
})

t.test('listens on loopback only', async (t) => {
  const fake = await startFake(t)
  t.match(fake.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
})

t.test('the real client uploads in one resumable request and reads the object back', async (t) => {
  const fake = await startFake(t)
  const bucket = fake.storage({ retryOptions: { autoRetry: false } }).bucket(BUCKET)
  const data = randomBytes(700_000)
  await bucket.upload(tempFile(t, data), { destination: 'p/one.db', validation: 'crc32c' })

  const stored = fake.object(BUCKET, 'p/one.db')!
  t.ok(stored.data.equals(data), 'stored bytes are the uploaded bytes')
  t.same(
    fake.requests.map((r) => [r.method, r.query.get('uploadType') ?? '', r.status]),
    [
      ['POST', 'resumable', 200],
      ['PUT', 'resumable', 200]
    ]
  )

  const [metadata] = await bucket.file('p/one.db').getMetadata()
  t.equal(metadata.size, '700000')
  t.equal(metadata.crc32c, crc32cBase64(data))
  t.equal(metadata.md5Hash, md5Base64(data))
  t.equal(metadata.timeCreated, new Date(NOW).toISOString())
  const [downloaded] = await bucket.file('p/one.db').download({ validation: 'crc32c' })
  t.ok(downloaded.equals(data))
  const [md5Checked] = await bucket.file('p/one.db').download({ validation: 'md5' })
  t.ok(md5Checked.equals(data))
})

t.test('chunked resumable uploads answer 308 with the received range until the last chunk', async (t) => {
  const fake = await startFake(t)
  const bucket = fake.storage({ retryOptions: { autoRetry: false } }).bucket(BUCKET)
  const data = randomBytes(2 * RESUMABLE_CHUNK_QUANTUM + 1000)
  await bucket.upload(tempFile(t, data), {
    destination: 'chunked.db',
    chunkSize: RESUMABLE_CHUNK_QUANTUM,
    metadata: { contentLength: data.length }
  })
  t.ok(fake.object(BUCKET, 'chunked.db')!.data.equals(data))
  const puts = fake.requests.filter((r) => r.method === 'PUT')
  t.same(
    puts.map((r) => [r.contentRange, r.status]),
    [
      [`bytes 0-262143/${data.length}`, 308],
      [`bytes 262144-524287/${data.length}`, 308],
      [`bytes 524288-${data.length - 1}/${data.length}`, 200]
    ]
  )
})

t.test('a resumable upload recovers from a 503 mid-way through the client asking where it stopped', async (t) => {
  const fake = await startFake(t)
  const storage = fake.storage({ retryOptions: { maxRetries: 3, retryDelayMultiplier: 1, maxRetryDelay: 1 } })
  const data = randomBytes(2 * RESUMABLE_CHUNK_QUANTUM + 10)
  fake.failNext(1, 503, (r) => r.method === 'PUT' && r.query.has('upload_id'))
  await storage.bucket(BUCKET).upload(tempFile(t, data), {
    destination: 'retried.db',
    chunkSize: RESUMABLE_CHUNK_QUANTUM,
    preconditionOpts: { ifGenerationMatch: 0 }
  })
  t.ok(fake.object(BUCKET, 'retried.db')!.data.equals(data), 'the object is whole after the retry')
  t.ok(
    fake.requests.some((r) => r.method === 'PUT' && r.contentRange === 'bytes */*' && r.status === 308),
    'the client queried the upload status'
  )
})

t.test('multipart uploads store the media part with its metadata', async (t) => {
  const fake = await startFake(t)
  const bucket = fake.storage({ retryOptions: { autoRetry: false } }).bucket(BUCKET)
  await bucket
    .file('p/latest')
    .save('p/one.db', { resumable: false, contentType: 'text/plain', metadata: { metadata: { by: 'test' } } })
  const stored = fake.object(BUCKET, 'p/latest')!
  t.equal(stored.data.toString(), 'p/one.db')
  t.equal(stored.contentType, 'text/plain')
  t.same(stored.metadata, { by: 'test' })
  t.equal(fake.requests[0]!.query.get('uploadType'), 'multipart')
})

t.test('listing filters by prefix, in name order, across pages', async (t) => {
  const fake = await startFake(t)
  for (const name of ['a/3', 'a/1', 'b/1', 'a/2']) fake.putObject(BUCKET, name, Buffer.from(name))
  const bucket = fake.storage({ retryOptions: { autoRetry: false } }).bucket(BUCKET)
  const [firstPage, nextQuery] = await bucket.getFiles({ prefix: 'a/', maxResults: 2, autoPaginate: false })
  t.same(
    firstPage.map((f) => f.name),
    ['a/1', 'a/2']
  )
  t.ok(nextQuery, 'a page token points at the rest')
  const [secondPage, after] = await bucket.getFiles({ ...nextQuery, autoPaginate: false })
  t.same(
    secondPage.map((f) => f.name),
    ['a/3']
  )
  t.equal(after, null, 'no page after the last')
  const [all] = await bucket.getFiles({ prefix: 'a/' })
  t.same(
    all.map((f) => f.name),
    ['a/1', 'a/2', 'a/3']
  )
  const [none] = await bucket.getFiles({ prefix: 'c/' })
  t.same(none, [])
})

t.test('delete removes the object; missing objects and buckets are 404', async (t) => {
  const fake = await startFake(t)
  fake.putObject(BUCKET, 'gone', Buffer.from('x'))
  const storage = fake.storage({ retryOptions: { autoRetry: false } })
  await storage.bucket(BUCKET).file('gone').delete()
  t.equal(fake.object(BUCKET, 'gone'), undefined)
  t.equal((await errorOf(storage.bucket(BUCKET).file('gone').getMetadata())).code, 404)
  t.equal((await errorOf(storage.bucket(BUCKET).file('gone').delete())).code, 404)
  t.equal((await errorOf(storage.bucket('no-such-bucket').getFiles())).code, 404)
  const kept = fake.putObject(BUCKET, 'versioned', Buffer.from('v1'))
  fake.putObject(BUCKET, 'versioned', Buffer.from('v2'))
  const [current] = await storage.bucket(BUCKET).file('versioned').download()
  t.equal(current.toString(), 'v2')
  t.equal(
    (await errorOf(storage.bucket(BUCKET).file('versioned', { generation: kept.generation }).download())).code,
    404,
    'a replaced generation is gone'
  )
  const [exists] = await storage.bucket(BUCKET).exists()
  t.equal(exists, true)
})

t.test('ifGenerationMatch=0 refuses to overwrite an existing object', async (t) => {
  const fake = await startFake(t)
  fake.putObject(BUCKET, 'taken', Buffer.from('original'))
  const bucket = fake.storage({ retryOptions: { autoRetry: false } }).bucket(BUCKET)
  const err = await errorOf(
    bucket.upload(tempFile(t, Buffer.from('new')), { destination: 'taken', preconditionOpts: { ifGenerationMatch: 0 } })
  )
  t.equal((err as { response?: { status?: number } }).response?.status ?? err.code, 412)
  t.equal(fake.object(BUCKET, 'taken')!.data.toString(), 'original')
})

t.test('like GCS, the fake refuses bytes that disagree with X-Goog-Hash and ragged chunks', async (t) => {
  const fake = await startFake(t)
  const start = await fetch(`${fake.baseUrl}/upload/storage/v1/b/${BUCKET}/o?uploadType=resumable&name=raw`, {
    method: 'POST'
  })
  const session = start.headers.get('location')!
  t.match(session, /upload_id=/)

  const ragged = await fetch(session, {
    method: 'PUT',
    headers: { 'Content-Range': 'bytes 0-999/*' },
    body: Buffer.alloc(1000)
  })
  t.equal(ragged.status, 400, 'a non-final chunk must be a multiple of 256 KiB')

  const data = Buffer.from('hello')
  const wrongHash = await fetch(session, {
    method: 'PUT',
    headers: { 'Content-Range': 'bytes 0-4/5', 'X-Goog-Hash': `crc32c=${crc32cBase64(Buffer.from('jello'))}` },
    body: data
  })
  t.equal(wrongHash.status, 400)
  t.match(((await wrongHash.json()) as { error: { message: string } }).error.message, /crc32c/)
  t.equal(fake.object(BUCKET, 'raw'), undefined, 'nothing was stored')
})

t.test('damaged downloads: the client catches corrupt and short bodies while checksums are sent', async (t) => {
  const fake = await startFake(t)
  const data = randomBytes(300_000)
  fake.putObject(BUCKET, 'x', data)
  const file = fake
    .storage({ retryOptions: { autoRetry: false } })
    .bucket(BUCKET)
    .file('x')

  fake.damageNextDownload('corrupt')
  t.equal((await errorOf(file.download())).code, 'CONTENT_DOWNLOAD_MISMATCH')
  fake.damageNextDownload('truncate')
  t.equal((await errorOf(file.download())).code, 'CONTENT_DOWNLOAD_MISMATCH')
  const [intact] = await file.download()
  t.ok(intact.equals(data), 'only the next download is damaged')

  fake.damageNextDownload('truncate', { hideChecksums: true })
  const [short] = await file.download()
  t.equal(
    short.length,
    data.length / 2,
    'without checksum headers the client cannot tell, which is why callers check too'
  )
})

t.test('a disconnect drops the connection after half the promised body', async (t) => {
  const fake = await startFake(t)
  fake.putObject(BUCKET, 'x', randomBytes(300_000))
  fake.damageNextDownload('disconnect')
  const res = await fetch(`${fake.baseUrl}/storage/v1/b/${BUCKET}/o/x?alt=media`)
  t.equal(res.headers.get('content-length'), '300000')
  await t.rejects(res.arrayBuffer(), 'the body never completes')
})

t.test('a corrupted upload is caught by the client, which deletes the object', async (t) => {
  const fake = await startFake(t)
  const bucket = fake.storage({ retryOptions: { autoRetry: false } }).bucket(BUCKET)
  fake.corruptNextUpload()
  t.equal(
    (await errorOf(bucket.upload(tempFile(t, randomBytes(50_000)), { destination: 'bad', validation: 'crc32c' }))).code,
    'FILE_NO_UPLOAD'
  )
  t.equal(fake.object(BUCKET, 'bad'), undefined)
  fake.corruptNextUpload()
  t.equal((await errorOf(bucket.file('bad2').save(randomBytes(1000), { resumable: false }))).code, 'FILE_NO_UPLOAD')
  t.equal(fake.object(BUCKET, 'bad2'), undefined)
})

t.test('failNext fails only the requests it matches, then recovers', async (t) => {
  const fake = await startFake(t)
  fake.putObject(BUCKET, 'x', Buffer.from('data'))
  const file = fake
    .storage({ retryOptions: { autoRetry: false } })
    .bucket(BUCKET)
    .file('x')
  fake.failNext(1, 500, (r) => r.method === 'DELETE')
  fake.failNext(2, 503)
  t.equal((await errorOf(file.getMetadata())).code, 503)
  t.equal((await errorOf(file.getMetadata())).code, 503)
  const [metadata] = await file.getMetadata()
  t.equal(metadata.size, '4')
  t.equal((await errorOf(file.delete())).code, 500)
  await file.delete()
  t.equal(fake.object(BUCKET, 'x'), undefined)
})
