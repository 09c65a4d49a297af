import { Transform, type TransformCallback } from 'node:stream'
import { BackupError } from './errors.js'

export type TransferProgress = (bytesDone: number, bytesTotal: number) => void

/**
 * Counts bytes as they pass, reports progress, and fails the transfer when nothing has
 * arrived for `stallTimeoutMs`. The watchdog is not optional: when a connection drops in
 * the middle of a body with a Content-Length, @google-cloud/storage 7's read stream
 * neither ends nor errors (its HTTP layer pipes without forwarding the abort), and a
 * restore would wait forever.
 */
export class TransferMeter extends Transform {
  bytes = 0
  #timer: NodeJS.Timeout | undefined

  constructor(
    private readonly what: string,
    private readonly total: number,
    private readonly stallTimeoutMs: number,
    private readonly onProgress?: TransferProgress
  ) {
    super()
    this.#arm()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length
    this.#arm()
    this.onProgress?.(this.bytes, this.total)
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    this.#disarm()
    callback()
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this.#disarm()
    callback(error)
  }

  #arm(): void {
    this.#disarm()
    this.#timer = setTimeout(() => {
      const seconds = Math.round(this.stallTimeoutMs / 100) / 10
      this.destroy(
        new BackupError(
          'transfer',
          `${this.what} stalled: nothing received for ${seconds} s after ${this.bytes} of ${this.total} bytes`
        )
      )
    }, this.stallTimeoutMs)
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
