import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Storage, type StorageOptions } from '@google-cloud/storage'

/**
 * A loopback stand-in for the Google Cloud Storage JSON and upload APIs: enough of them,
 * strictly enough, for the real @google-cloud/storage client to upload (media, multipart,
 * resumable in one request or in chunks), list, stat, download and delete objects. It can
 * be told to damage transfers or fail requests, to prove callers notice.
 */

export interface FakeGcsOptions {
  /** Buckets that exist; any other bucket answers 404 like GCS does. */
  buckets: string[]
  /** Stamps timeCreated/updated; pass a FakeClock's now to line them up with the test. */
  now?: () => number
}

export interface StoredObject {
  bucket: string
  name: string
  data: Buffer
  contentType: string
  generation: number
  createdAt: number
  metadata: Record<string, string>
}

export interface RecordedGcsRequest {
  method: string
  path: string
  query: URLSearchParams
  contentRange: string | undefined
  /** Bytes in the request body. */
  bodyBytes: number
  status: number
}

/** How the next download is spoiled; checksum headers still describe the stored object. */
export type DownloadDamage =
  /** One byte flipped, length unchanged. */
  | 'corrupt'
  /** Half the bytes, with an honest Content-Length for that half. */
  | 'truncate'
  /** The full Content-Length promised, then the connection dropped halfway. */
  | 'disconnect'

export interface DownloadDamageOptions {
  /** Omit x-goog-hash and x-goog-stored-content-encoding, so the client cannot check. */
  hideChecksums?: boolean
}

interface InjectedFailure {
  status: number
  when: (request: { method: string; path: string; query: URLSearchParams }) => boolean
}

interface UploadSession {
  id: string
  bucket: string
  name: string
  contentType: string
  metadata: Record<string, string>
  ifGenerationMatch: string | null
  declaredSize: number | null
  chunks: Buffer[]
  received: number
  finished: StoredObject | null
}

/** Non-final resumable chunks must be multiples of this, as GCS requires. */
export const RESUMABLE_CHUNK_QUANTUM = 256 * 1024

const JSON_OBJECT = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/
const JSON_LIST = /^\/storage\/v1\/b\/([^/]+)\/o$/
const JSON_BUCKET = /^\/storage\/v1\/b\/([^/]+)$/
const DOWNLOAD_OBJECT = /^\/download\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/
const UPLOAD = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/

class GcsError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string
  ) {
    super(message)
  }
}

export class FakeGcsApi {
  readonly requests: RecordedGcsRequest[] = []
  readonly #objects = new Map<string, StoredObject>()
  readonly #buckets: Set<string>
  readonly #sessions = new Map<string, UploadSession>()
  readonly #failures: InjectedFailure[] = []
  readonly #now: () => number
  #generation = 1_700_000_000_000_000
  #downloadDamage: { damage: DownloadDamage; options: DownloadDamageOptions } | null = null
  #corruptNextUpload = false

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    options: FakeGcsOptions
  ) {
    this.#buckets = new Set(options.buckets)
    this.#now = options.now ?? Date.now
  }

  static async start(options: FakeGcsOptions): Promise<FakeGcsApi> {
    let fake: FakeGcsApi | undefined
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        // A bug in the fake must surface as a loud 500 rather than a hung test.
        if (!res.headersSent) sendError(res, 500, `fake GCS bug: ${String(error)}`, 'backendError')
        else res.destroy()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const { port } = server.address() as AddressInfo
    fake = new FakeGcsApi(server, `http://127.0.0.1:${port}`, options)
    return fake
  }

  /**
   * The real client, pointed here. A custom apiEndpoint makes it skip Google auth
   * entirely, so no credentials are needed and nothing leaves loopback.
   */
  storage(options: Omit<StorageOptions, 'apiEndpoint'> = {}): Storage {
    return new Storage({ projectId: 'kronus-test', ...options, apiEndpoint: this.baseUrl })
  }

  /** The next `count` requests matching `when` (all requests by default) get `status`. */
  failNext(count: number, status = 503, when: InjectedFailure['when'] = () => true): void {
    for (let i = 0; i < count; i++) this.#failures.push({ status, when })
  }

  /** Spoils the next media download in the given way. */
  damageNextDownload(damage: DownloadDamage, options: DownloadDamageOptions = {}): void {
    this.#downloadDamage = { damage, options }
  }

  /**
   * The next object to be finalised is stored with one byte flipped, as if damaged on the
   * way in, and its metadata checksums describe the damaged bytes. The client's X-Goog-Hash
   * is ignored for it, so only the client's own validation can catch the difference.
   */
  corruptNextUpload(): void {
    this.#corruptNextUpload = true
  }

  /** Objects in a bucket, by name. */
  objects(bucket: string): StoredObject[] {
    return [...this.#objects.values()].filter((o) => o.bucket === bucket).sort((a, b) => compare(a.name, b.name))
  }

  object(bucket: string, name: string): StoredObject | undefined {
    return this.#objects.get(key(bucket, name))
  }

  /** Puts an object in place directly, as if uploaded earlier by someone else. */
  putObject(bucket: string, name: string, data: Buffer, contentType = 'application/octet-stream'): StoredObject {
    this.#requireBucket(bucket)
    return this.#store({
      bucket,
      name,
      data,
      contentType,
      metadata: {},
      ifGenerationMatch: null,
      clientHash: undefined
    })
  }

  /** Idempotent, so a test may close early to simulate an unreachable API. */
  async close(): Promise<void> {
    if (!this.server.listening) return
    // The client keeps connections alive; without this, close() waits for them to idle out.
    this.server.closeAllConnections()
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    const url = new URL(req.url ?? '/', this.baseUrl)
    const method = req.method ?? 'GET'
    const record: RecordedGcsRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      contentRange: header(req, 'content-range'),
      bodyBytes: body.length,
      status: 0
    }
    this.requests.push(record)
    res.on('finish', () => (record.status = res.statusCode))

    const failure = this.#takeFailure(method, url)
    if (failure) return sendError(res, failure.status, `injected failure ${failure.status}`, 'backendError')

    try {
      await this.#route(req, res, method, url, body)
    } catch (err) {
      if (err instanceof GcsError) return sendError(res, err.status, err.message, err.reason)
      throw err
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, method: string, url: URL, body: Buffer): Promise<void> {
    const path = url.pathname
    let match: RegExpExecArray | null
    if ((match = UPLOAD.exec(path))) {
      const bucket = decodeURIComponent(match[1]!)
      this.#requireBucket(bucket)
      if (method === 'POST') return this.#startUpload(req, res, bucket, url, body)
      if (method === 'PUT') return this.#putResumable(req, res, url, body)
      if (method === 'DELETE') return this.#cancelResumable(res, url)
    } else if ((match = JSON_LIST.exec(path))) {
      const bucket = decodeURIComponent(match[1]!)
      this.#requireBucket(bucket)
      if (method === 'GET') return this.#list(res, bucket, url)
    } else if ((match = JSON_OBJECT.exec(path)) ?? (match = DOWNLOAD_OBJECT.exec(path))) {
      const bucket = decodeURIComponent(match[1]!)
      const name = decodeURIComponent(match[2]!)
      this.#requireBucket(bucket)
      const generation = url.searchParams.get('generation')
      if (method === 'GET' && url.searchParams.get('alt') === 'media')
        return this.#download(req, res, bucket, name, generation)
      if (method === 'GET') return sendJson(res, 200, this.#resource(this.#requireObject(bucket, name, generation)))
      if (method === 'DELETE') {
        const object = this.#requireObject(bucket, name)
        const generation = url.searchParams.get('ifGenerationMatch')
        if (generation !== null && generation !== String(object.generation)) {
          throw new GcsError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet')
        }
        this.#objects.delete(key(bucket, name))
        res.writeHead(204).end()
        return
      }
    } else if ((match = JSON_BUCKET.exec(path))) {
      const bucket = decodeURIComponent(match[1]!)
      this.#requireBucket(bucket)
      if (method === 'GET')
        return sendJson(res, 200, {
          kind: 'storage#bucket',
          id: bucket,
          name: bucket,
          location: 'US',
          storageClass: 'STANDARD'
        })
    }
    throw new GcsError(404, `fake GCS does not implement ${method} ${path}`, 'notFound')
  }

  async #startUpload(req: IncomingMessage, res: ServerResponse, bucket: string, url: URL, body: Buffer): Promise<void> {
    const uploadType = url.searchParams.get('uploadType')
    const ifGenerationMatch = url.searchParams.get('ifGenerationMatch')
    if (uploadType === 'media') {
      const name = requireName(url.searchParams.get('name'))
      const object = this.#store({
        bucket,
        name,
        data: body,
        contentType: header(req, 'content-type') ?? 'application/octet-stream',
        metadata: {},
        ifGenerationMatch,
        clientHash: header(req, 'x-goog-hash')
      })
      return sendJson(res, 200, this.#resource(object))
    }
    if (uploadType === 'multipart') {
      const [metadataPart, mediaPart] = parseMultipart(header(req, 'content-type'), body)
      const metadata = parseJsonObject(metadataPart!.body)
      const name = requireName(url.searchParams.get('name') ?? stringField(metadata, 'name'))
      const object = this.#store({
        bucket,
        name,
        data: mediaPart!.body,
        contentType: stringField(metadata, 'contentType') ?? mediaPart!.contentType ?? 'application/octet-stream',
        metadata: customMetadata(metadata),
        ifGenerationMatch,
        clientHash: header(req, 'x-goog-hash')
      })
      return sendJson(res, 200, this.#resource(object))
    }
    if (uploadType === 'resumable') {
      const metadata = body.length > 0 ? parseJsonObject(body) : {}
      const name = requireName(url.searchParams.get('name') ?? stringField(metadata, 'name'))
      this.#checkPrecondition(bucket, name, ifGenerationMatch)
      const declared = header(req, 'x-upload-content-length')
      const session: UploadSession = {
        id: randomBytes(12).toString('hex'),
        bucket,
        name,
        contentType:
          header(req, 'x-upload-content-type') ?? stringField(metadata, 'contentType') ?? 'application/octet-stream',
        metadata: customMetadata(metadata),
        ifGenerationMatch,
        declaredSize: declared === undefined ? null : Number(declared),
        chunks: [],
        received: 0,
        finished: null
      }
      this.#sessions.set(session.id, session)
      const location = new URL(`/upload/storage/v1/b/${encodeURIComponent(bucket)}/o`, this.baseUrl)
      location.searchParams.set('uploadType', 'resumable')
      location.searchParams.set('name', name)
      location.searchParams.set('upload_id', session.id)
      res.writeHead(200, { Location: location.href, 'Content-Length': 0 }).end()
      return
    }
    throw new GcsError(400, `unsupported uploadType ${uploadType}`, 'invalid')
  }

  async #putResumable(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const session = this.#sessions.get(url.searchParams.get('upload_id') ?? '')
    if (!session) throw new GcsError(404, 'No such upload session.', 'notFound')
    if (session.finished) return sendJson(res, 200, this.#resource(session.finished))

    const range = parseContentRange(header(req, 'content-range'), body.length)
    if (range.total !== null && session.declaredSize !== null && range.total !== session.declaredSize) {
      throw new GcsError(
        400,
        `total size ${range.total} differs from X-Upload-Content-Length ${session.declaredSize}`,
        'invalid'
      )
    }
    let fresh: Buffer = Buffer.alloc(0)
    if (range.start !== null) {
      if (range.start > session.received) {
        throw new GcsError(
          400,
          `chunk starts at ${range.start} but only ${session.received} bytes were received`,
          'invalid'
        )
      }
      // A retried chunk may resend bytes GCS already has; keep only the new tail.
      fresh = body.subarray(Math.min(session.received - range.start, body.length))
    }
    const received = session.received + fresh.length
    const total = range.total ?? (range.openEnded ? received : null)
    if (total !== null && received > total) {
      throw new GcsError(400, `received ${received} bytes, more than the declared ${total}`, 'invalid')
    }
    const final = total !== null && received === total
    if (!final && range.start !== null && body.length % RESUMABLE_CHUNK_QUANTUM !== 0) {
      throw new GcsError(
        400,
        `non-final chunk of ${body.length} bytes is not a multiple of ${RESUMABLE_CHUNK_QUANTUM}`,
        'invalid'
      )
    }
    if (!final) {
      if (fresh.length > 0) session.chunks.push(fresh)
      session.received = received
      const headers: Record<string, string | number> = { 'Content-Length': 0 }
      if (session.received > 0) headers.Range = `bytes=0-${session.received - 1}`
      res.writeHead(308, headers).end()
      return
    }
    // The session only advances once the object is accepted, so a refused final chunk can be resent.
    const object = this.#store({
      bucket: session.bucket,
      name: session.name,
      data: Buffer.concat([...session.chunks, fresh]),
      contentType: session.contentType,
      metadata: session.metadata,
      ifGenerationMatch: session.ifGenerationMatch,
      clientHash: header(req, 'x-goog-hash')
    })
    session.chunks = [object.data]
    session.received = received
    session.finished = object
    sendJson(res, 200, this.#resource(object))
  }

  #cancelResumable(res: ServerResponse, url: URL): void {
    this.#sessions.delete(url.searchParams.get('upload_id') ?? '')
    res.writeHead(499, { 'Content-Length': 0 }).end()
  }

  #list(res: ServerResponse, bucket: string, url: URL): void {
    const prefix = url.searchParams.get('prefix') ?? ''
    const maxResults = Number(url.searchParams.get('maxResults') ?? 1000)
    const after = url.searchParams.get('pageToken')
    const matching = this.objects(bucket).filter(
      (o) => o.name.startsWith(prefix) && (after === null || compare(o.name, after) > 0)
    )
    const page = matching.slice(0, maxResults)
    const reply: Record<string, unknown> = { kind: 'storage#objects' }
    if (page.length > 0) reply.items = page.map((o) => this.#resource(o))
    if (matching.length > page.length) reply.nextPageToken = page[page.length - 1]!.name
    sendJson(res, 200, reply)
  }

  #download(req: IncomingMessage, res: ServerResponse, bucket: string, name: string, generation: string | null): void {
    const object = this.#requireObject(bucket, name, generation)
    const sabotage = this.#downloadDamage
    this.#downloadDamage = null
    const headers: Record<string, string | number> = {
      'Content-Type': object.contentType,
      ETag: etag(object),
      'x-goog-generation': String(object.generation),
      'x-goog-metageneration': '1',
      'x-goog-stored-content-length': object.data.length
    }
    if (!sabotage?.options.hideChecksums) {
      headers['x-goog-hash'] = `crc32c=${crc32cBase64(object.data)},md5=${md5Base64(object.data)}`
      headers['x-goog-stored-content-encoding'] = 'identity'
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(header(req, 'range') ?? '')
    if (range) {
      const start = Number(range[1])
      const end = range[2] ? Math.min(Number(range[2]), object.data.length - 1) : object.data.length - 1
      const part = object.data.subarray(start, end + 1)
      res.writeHead(206, {
        ...headers,
        'Content-Length': part.length,
        'Content-Range': `bytes ${start}-${end}/${object.data.length}`
      })
      res.end(part)
      return
    }
    if (sabotage?.damage === 'corrupt') {
      const damaged = Buffer.from(object.data)
      const at = Math.floor(damaged.length / 2)
      damaged[at] = damaged[at]! ^ 0xff
      res.writeHead(200, { ...headers, 'Content-Length': damaged.length })
      res.end(damaged)
      return
    }
    if (sabotage?.damage === 'truncate') {
      const half = object.data.subarray(0, Math.floor(object.data.length / 2))
      res.writeHead(200, { ...headers, 'Content-Length': half.length })
      res.end(half)
      return
    }
    if (sabotage?.damage === 'disconnect') {
      res.writeHead(200, { ...headers, 'Content-Length': object.data.length })
      res.write(object.data.subarray(0, Math.floor(object.data.length / 2)), () => res.destroy())
      return
    }
    res.writeHead(200, { ...headers, 'Content-Length': object.data.length })
    res.end(object.data)
  }

  #store(upload: {
    bucket: string
    name: string
    data: Buffer
    contentType: string
    metadata: Record<string, string>
    ifGenerationMatch: string | null
    clientHash: string | undefined
  }): StoredObject {
    this.#checkPrecondition(upload.bucket, upload.name, upload.ifGenerationMatch)
    let data = upload.data
    if (this.#corruptNextUpload) {
      this.#corruptNextUpload = false
      data = Buffer.from(data)
      const at = Math.floor(data.length / 2)
      data[at] = data[at]! ^ 0xff
    } else {
      checkClientHash(upload.clientHash, data)
    }
    const object: StoredObject = {
      bucket: upload.bucket,
      name: upload.name,
      data,
      contentType: upload.contentType,
      generation: ++this.#generation,
      createdAt: this.#now(),
      metadata: upload.metadata
    }
    this.#objects.set(key(object.bucket, object.name), object)
    return object
  }

  #checkPrecondition(bucket: string, name: string, ifGenerationMatch: string | null): void {
    if (ifGenerationMatch === null) return
    const existing = this.#objects.get(key(bucket, name))
    const current = existing ? String(existing.generation) : '0'
    if (current !== ifGenerationMatch) {
      throw new GcsError(412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet')
    }
  }

  #requireBucket(bucket: string): void {
    if (!this.#buckets.has(bucket)) throw new GcsError(404, 'The specified bucket does not exist.', 'notFound')
  }

  /** Only the live generation is kept, so asking for any other one is a 404, as for a deleted version. */
  #requireObject(bucket: string, name: string, generation: string | null = null): StoredObject {
    const object = this.#objects.get(key(bucket, name))
    if (!object || (generation !== null && generation !== String(object.generation))) {
      throw new GcsError(
        404,
        `No such object: ${bucket}/${name}${generation === null ? '' : `#${generation}`}`,
        'notFound'
      )
    }
    return object
  }

  #takeFailure(method: string, url: URL): InjectedFailure | undefined {
    const index = this.#failures.findIndex((f) => f.when({ method, path: url.pathname, query: url.searchParams }))
    if (index < 0) return undefined
    return this.#failures.splice(index, 1)[0]
  }

  #resource(object: StoredObject): Record<string, unknown> {
    const created = new Date(object.createdAt).toISOString()
    const path = `b/${encodeURIComponent(object.bucket)}/o/${encodeURIComponent(object.name)}`
    return {
      kind: 'storage#object',
      id: `${object.bucket}/${object.name}/${object.generation}`,
      selfLink: `${this.baseUrl}/storage/v1/${path}`,
      mediaLink: `${this.baseUrl}/download/storage/v1/${path}?generation=${object.generation}&alt=media`,
      name: object.name,
      bucket: object.bucket,
      generation: String(object.generation),
      metageneration: '1',
      contentType: object.contentType,
      storageClass: 'STANDARD',
      size: String(object.data.length),
      md5Hash: md5Base64(object.data),
      crc32c: crc32cBase64(object.data),
      etag: etag(object),
      timeCreated: created,
      updated: created,
      timeStorageClassUpdated: created,
      ...(Object.keys(object.metadata).length > 0 ? { metadata: object.metadata } : {})
    }
  }
}

const CRC32C_TABLE = (() => {
  // Castagnoli polynomial, bit-reflected, as GCS and iSCSI use it.
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** GCS's encoding: the four bytes big-endian, base64. */
export function crc32cBase64(data: Uint8Array): string {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(crc32c(data))
  return bytes.toString('base64')
}

export function md5Base64(data: Uint8Array): string {
  return createHash('md5').update(data).digest('base64')
}

/** Real GCS refuses to finalise an object whose bytes disagree with the client's X-Goog-Hash. */
function checkClientHash(hashHeader: string | undefined, data: Buffer): void {
  for (const pair of (hashHeader ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at < 0) continue
    const kind = pair.slice(0, at).trim()
    const value = pair.slice(at + 1).trim()
    const actual = kind === 'crc32c' ? crc32cBase64(data) : kind === 'md5' ? md5Base64(data) : value
    if (actual !== value) {
      throw new GcsError(400, `Provided ${kind} "${value}" doesn't match calculated ${kind} "${actual}".`, 'invalid')
    }
  }
}

interface ContentRange {
  /** First byte of this request's body, or null for a status query. */
  start: number | null
  total: number | null
  /** `bytes N-*` ... : the body runs to the end of the object. */
  openEnded: boolean
}

function parseContentRange(value: string | undefined, bodyLength: number): ContentRange {
  // Without Content-Range the whole object arrives in this one request.
  if (value === undefined) return { start: 0, total: bodyLength, openEnded: false }
  const match = /^bytes (\*|(\d+)-(\d+|\*))\/(\*|\d+)$/.exec(value.trim())
  if (!match) throw new GcsError(400, `malformed Content-Range: ${value}`, 'invalid')
  const total = match[4] === '*' ? null : Number(match[4])
  if (match[1] === '*') return { start: null, total, openEnded: false }
  const start = Number(match[2])
  if (match[3] === '*') return { start, total, openEnded: true }
  const end = Number(match[3])
  if (end - start + 1 !== bodyLength) {
    throw new GcsError(400, `Content-Range ${value} does not match a body of ${bodyLength} bytes`, 'invalid')
  }
  return { start, total, openEnded: false }
}

interface MultipartPart {
  contentType: string | undefined
  body: Buffer
}

function parseMultipart(contentType: string | undefined, body: Buffer): MultipartPart[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1]
  if (!boundary || !/^multipart\/related/i.test(contentType ?? '')) {
    throw new GcsError(
      400,
      `multipart upload needs Content-Type multipart/related with a boundary, got ${contentType}`,
      'invalid'
    )
  }
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: MultipartPart[] = []
  let at = body.indexOf(delimiter)
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break
    const next = body.indexOf(delimiter, afterDelimiter)
    if (next < 0) break
    const part = body.subarray(afterDelimiter, next)
    const headerEnd = part.indexOf('\r\n\r\n')
    if (headerEnd < 0) throw new GcsError(400, 'multipart part without headers', 'invalid')
    const headers = part.subarray(0, headerEnd).toString('utf8')
    // The part body ends before the CRLF that precedes the next delimiter.
    const content = part.subarray(headerEnd + 4, part.length - 2)
    parts.push({ contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim(), body: content })
    at = next
  }
  if (parts.length !== 2) throw new GcsError(400, `multipart upload needs 2 parts, got ${parts.length}`, 'invalid')
  return parts
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'))
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // falls through to the error below
  }
  throw new GcsError(400, 'object metadata must be a JSON object', 'parseError')
}

function stringField(object: Record<string, unknown>, field: string): string | undefined {
  const value = object[field]
  return typeof value === 'string' ? value : undefined
}

function customMetadata(object: Record<string, unknown>): Record<string, string> {
  const metadata = object.metadata
  if (!metadata || typeof metadata !== 'object') return {}
  return Object.fromEntries(Object.entries(metadata as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
}

function requireName(name: string | null | undefined): string {
  if (!name) throw new GcsError(400, 'Required parameter: name', 'required')
  return name
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function key(bucket: string, name: string): string {
  return `${bucket}\u0000${name}`
}

function etag(object: StoredObject): string {
  return `"${md5Base64(object.data)}-${object.generation}"`
}

/** GCS lists names in byte order. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(text)
  })
  res.end(text)
}

function sendError(res: ServerResponse, status: number, message: string, reason: string): void {
  sendJson(res, status, { error: { code: status, message, errors: [{ domain: 'global', reason, message }] } })
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
