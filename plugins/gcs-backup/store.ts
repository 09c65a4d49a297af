import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { type Bucket, CRC32C, type File, type Storage } from '@google-cloud/storage'
import { type Clock, PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from 'kronus'
import { BackupError, describe, httpStatusOf, isTransient } from './errors.js'
import { fileExists } from './file-exists.js'
import { BackupNames } from './names.js'
import { TransferMeter, type TransferProgress } from './transfer-meter.js'
import { type VerifiedSnapshot, verifySnapshot } from './verify.js'

export interface BackupStoreOptions {
  storage: Storage
  bucket: string
  /** Folder in the bucket (google.storage.prefix); '' for the bucket's root. */
  prefix?: string
  /** Every download is opened with it before it may replace a database. */
  passPhrase: string
  /** Names new backups by its time. */
  clock: Clock
  /**
   * Uploads go in resumable chunks of this many bytes (a multiple of 256 KiB), so a dropped
   * connection costs one chunk rather than the whole file. Each chunk is held in memory.
   */
  chunkSize?: number
  /** A download that receives nothing for this long fails instead of hanging. */
  stallTimeoutMs?: number
}

export interface StoredBackup {
  /** Full object name, prefix included. */
  name: string
  takenAt: number
  bytes: number
  /** GCS's base64 CRC32C of the object. */
  crc32c: string
}

export interface UploadOptions {
  /** When the snapshot was taken; the clock's now by default. Names the object. */
  takenAt?: number
  onProgress?: TransferProgress
}

export interface DownloadOptions {
  onProgress?: TransferProgress
  /**
   * Replace an existing file at the destination, removing its -wal, -shm and -journal
   * sidecars (a stale WAL would be replayed into the restored database). Only safe while
   * no process has the database open.
   */
  overwrite?: boolean
}

export interface RestoredBackup extends StoredBackup {
  file: string
  verified: VerifiedSnapshot
}

const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
const DEFAULT_STALL_TIMEOUT_MS = 60_000
const SQLITE_SIDECARS = ['-wal', '-shm', '-journal']

/**
 * Encrypted database snapshots in a GCS bucket: upload with checksum validation and a
 * `latest` pointer, list, prune, and download into a verified file.
 */
export class BackupStore {
  readonly names: BackupNames
  readonly #bucket: Bucket
  readonly #passPhrase: string
  readonly #clock: Clock
  readonly #chunkSize: number
  readonly #stallTimeoutMs: number

  constructor(options: BackupStoreOptions) {
    this.names = new BackupNames(options.prefix)
    this.#bucket = options.storage.bucket(options.bucket)
    this.#passPhrase = options.passPhrase
    this.#clock = options.clock
    this.#chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
    this.#stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS
    if (this.#chunkSize <= 0 || this.#chunkSize % (256 * 1024) !== 0) {
      throw new RangeError(`chunkSize must be a positive multiple of 262144 bytes, got ${this.#chunkSize}`)
    }
  }

  /** gs://bucket/prefix, for messages. */
  get location(): string {
    return `gs://${this.#bucket.name}/${this.names.prefix}`
  }

  /**
   * Uploads a snapshot under a new timestamped name, then points `latest` at it. Both the
   * client and this method compare CRC32Cs, and a damaged upload is deleted, so `latest`
   * only ever names a backup whose stored bytes match the local file.
   */
  async upload(localFile: string, options: UploadOptions = {}): Promise<StoredBackup> {
    const takenAt = options.takenAt ?? this.#clock.now()
    const name = this.names.backupAt(takenAt)
    const bytes = (await stat(localFile)).size
    const localCrc32c = (await CRC32C.fromFile(localFile)).toString()
    const file = this.#bucket.file(name)
    try {
      await this.#bucket.upload(localFile, {
        destination: file,
        resumable: true,
        chunkSize: this.#chunkSize,
        validation: 'crc32c',
        // Never overwrite a backup; it also makes the upload idempotent, so the client retries it.
        preconditionOpts: { ifGenerationMatch: 0 },
        metadata: { contentType: 'application/octet-stream', contentLength: bytes },
        onUploadProgress: (event: { bytesWritten: number }) =>
          options.onProgress?.(Math.min(event.bytesWritten, bytes), bytes)
      })
    } catch (err) {
      throw await this.#uploadFailure(err, file)
    }

    const stored = this.#describe(file, takenAt)
    if (stored.bytes !== bytes || stored.crc32c !== localCrc32c) {
      await file.delete({ ignoreNotFound: true }).catch(() => undefined)
      throw new BackupError(
        'corrupt-transfer',
        `upload of ${name} failed checksum validation: GCS holds ${stored.bytes} bytes with CRC32C ${stored.crc32c}, ` +
          `the snapshot is ${bytes} bytes with CRC32C ${localCrc32c}; the damaged copy was deleted`
      )
    }
    options.onProgress?.(bytes, bytes)

    try {
      await this.#bucket.file(this.names.pointer).save(name, {
        resumable: false,
        validation: 'crc32c',
        contentType: 'text/plain; charset=utf-8'
      })
    } catch (err) {
      throw new BackupError(
        'transfer',
        `backup ${name} was uploaded but ${this.names.pointer} could not be pointed at it: ${describe(err)}`,
        {
          retryable: isTransient(err),
          cause: err
        }
      )
    }
    return stored
  }

  /** Backups under the prefix, newest first. Other objects there are ignored. */
  async list(): Promise<StoredBackup[]> {
    let files: File[]
    try {
      ;[files] = await this.#bucket.getFiles({ prefix: this.names.listPrefix, autoPaginate: true })
    } catch (err) {
      throw this.#transferFailure(`listing backups in ${this.location}`, err)
    }
    const backups: StoredBackup[] = []
    for (const file of files) {
      const takenAt = this.names.takenAt(file.name)
      if (takenAt !== null) backups.push(this.#describe(file, takenAt))
    }
    return backups.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
  }

  /**
   * Deletes all but the newest `keep` backups and returns the names deleted. The backup
   * `latest` points at is never deleted, whatever its age.
   */
  async prune(keep: number): Promise<string[]> {
    if (!Number.isInteger(keep) || keep < 1)
      throw new RangeError(`keep must be a whole number of at least 1, got ${keep}`)
    const [backups, pointed] = await Promise.all([this.list(), this.#readPointer()])
    const doomed = backups.slice(keep).filter((b) => b.name !== pointed)
    const deleted: string[] = []
    const failures: string[] = []
    for (const backup of doomed) {
      try {
        await this.#bucket.file(backup.name).delete({ ignoreNotFound: true })
        deleted.push(backup.name)
      } catch (err) {
        failures.push(`${backup.name}: ${describe(err)}`)
      }
    }
    if (failures.length > 0) {
      throw new BackupError('transfer', `could not delete ${failures.length} old backup(s): ${failures.join('; ')}`, {
        retryable: true
      })
    }
    return deleted
  }

  /** The backup a restore would use: the one `latest` names, else the newest listed, else null. */
  async latest(): Promise<string | null> {
    const pointed = await this.#readPointer()
    if (pointed !== null) return pointed
    const [newest] = await this.list()
    return newest?.name ?? null
  }

  async downloadLatest(dest: string, options: DownloadOptions = {}): Promise<RestoredBackup> {
    const name = await this.latest()
    if (name === null) throw new BackupError('no-backup', `there is no backup in ${this.location}`)
    return this.download(name, dest, options)
  }

  /**
   * Downloads a backup into a temp file beside `dest`, checks its length and CRC32C
   * against GCS's metadata and opens it with the passphrase (verifySnapshot) before
   * renaming it into place. On any failure `dest` is untouched and the temp file removed.
   */
  async download(name: string, dest: string, options: DownloadOptions = {}): Promise<RestoredBackup> {
    const objectName = this.names.resolve(name)
    if (objectName === null) {
      throw new BackupError('not-found', `${name} is not a backup name (expected kronus-YYYY-MM-DDTHH-MM-SS.mmmZ.db)`)
    }
    const target = resolve(dest)
    await this.#checkDestination(target, options.overwrite ?? false)

    const file = this.#bucket.file(objectName)
    try {
      await file.getMetadata()
    } catch (err) {
      if (httpStatusOf(err) === 404)
        throw new BackupError('not-found', `backup ${objectName} does not exist in gs://${this.#bucket.name}`)
      throw this.#transferFailure(`reading ${objectName}`, err)
    }
    const stored = this.#describe(file, this.names.takenAt(objectName)!)

    await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIRECTORY_MODE })
    const temp = join(dirname(target), `.${basename(target)}.download-${randomBytes(6).toString('hex')}`)
    try {
      await this.#fetch(file, stored, temp, options.onProgress)
      const verified = await verifySnapshot(temp, this.#passPhrase)
      await syncFile(temp)
      if (options.overwrite) {
        for (const suffix of SQLITE_SIDECARS) await rm(target + suffix, { force: true })
      }
      await rename(temp, target)
      await syncDirectory(dirname(target))
      return { ...stored, file: target, verified }
    } catch (err) {
      await rm(temp, { force: true })
      throw err
    }
  }

  async #fetch(file: File, stored: StoredBackup, temp: string, onProgress?: TransferProgress): Promise<void> {
    const meter = new TransferMeter(`download of ${stored.name}`, stored.bytes, this.#stallTimeoutMs, onProgress)
    try {
      await pipeline(
        file.createReadStream({ validation: 'crc32c' }),
        meter,
        createWriteStream(temp, { flags: 'wx', mode: PRIVATE_FILE_MODE })
      )
    } catch (err) {
      if (err instanceof BackupError) throw err
      if ((err as { code?: unknown }).code === 'CONTENT_DOWNLOAD_MISMATCH') {
        throw new BackupError(
          'corrupt-transfer',
          `refusing backup ${stored.name}: the downloaded bytes fail GCS's checksum (corrupt or truncated download)`,
          {
            cause: err
          }
        )
      }
      throw this.#transferFailure(`downloading ${stored.name}`, err)
    }
    // The client cannot check what the server sends without checksum headers; this can.
    if (meter.bytes !== stored.bytes) {
      throw new BackupError(
        'corrupt-transfer',
        `refusing backup ${stored.name}: download truncated, received ${meter.bytes} of ${stored.bytes} bytes`
      )
    }
    const received = (await CRC32C.fromFile(temp)).toString()
    if (received !== stored.crc32c) {
      throw new BackupError(
        'corrupt-transfer',
        `refusing backup ${stored.name}: downloaded bytes have CRC32C ${received}, GCS records ${stored.crc32c} (corrupt download)`
      )
    }
  }

  async #readPointer(): Promise<string | null> {
    let content: Buffer
    try {
      ;[content] = await this.#bucket.file(this.names.pointer).download({ validation: 'crc32c' })
    } catch (err) {
      if (httpStatusOf(err) === 404) return null
      throw this.#transferFailure(`reading ${this.names.pointer}`, err)
    }
    const text = content.toString('utf8').trim()
    const name = this.names.resolve(text)
    if (name === null) {
      throw new BackupError(
        'bad-pointer',
        `gs://${this.#bucket.name}/${this.names.pointer} holds ${JSON.stringify(text.slice(0, 200))}, not a backup name`
      )
    }
    return name
  }

  async #checkDestination(target: string, overwrite: boolean): Promise<void> {
    if (overwrite) return
    for (const path of [target, ...SQLITE_SIDECARS.map((suffix) => target + suffix)]) {
      if (await fileExists(path)) {
        throw new BackupError(
          'destination',
          `${path} already exists; a restore never replaces a database unless told to overwrite it`
        )
      }
    }
  }

  async #uploadFailure(err: unknown, file: File): Promise<BackupError> {
    const code = (err as { code?: unknown }).code
    if (code === 'FILE_NO_UPLOAD' || code === 'FILE_NO_UPLOAD_DELETE') {
      // The client deletes a mismatched object itself; this covers the paths where it does not.
      await file.delete({ ignoreNotFound: true }).catch(() => undefined)
      return new BackupError(
        'corrupt-transfer',
        `upload of ${file.name} failed checksum validation; the damaged copy was deleted`,
        { cause: err }
      )
    }
    if (httpStatusOf(err) === 412) {
      return new BackupError(
        'exists',
        `a backup named ${file.name} already exists in gs://${this.#bucket.name}; it was not overwritten`,
        {
          cause: err
        }
      )
    }
    return this.#transferFailure(`uploading ${file.name}`, err)
  }

  #transferFailure(what: string, err: unknown): BackupError {
    if (err instanceof BackupError) return err
    return new BackupError('transfer', `${what} failed: ${describe(err)}`, { retryable: isTransient(err), cause: err })
  }

  #describe(file: File, takenAt: number): StoredBackup {
    return { name: file.name, takenAt, bytes: Number(file.metadata.size), crc32c: String(file.metadata.crc32c) }
  }
}

/** A restored database must survive a power cut right after the rename that installs it. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } catch (err) {
    // Some platforms cannot fsync a directory; the file itself is already on disk.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err
  } finally {
    await handle.close()
  }
}
