/** Why a backup transfer failed, so callers can choose between retrying, starting fresh and stopping. */
export type BackupErrorCode =
  /** The bucket holds no backup under the prefix: a first start, not a failure to restore. */
  | 'no-backup'
  /** The named backup does not exist. */
  | 'not-found'
  /** Bytes arrived damaged or short; the stored copy may still be good, so retry. */
  | 'corrupt-transfer'
  /** The network or GCS failed; retry later. */
  | 'transfer'
  /** A backup with this name exists already and is never overwritten. */
  | 'exists'
  /** The `latest` pointer does not name a backup. */
  | 'bad-pointer'
  /** The local destination is in the way. */
  | 'destination'

export class BackupError extends Error {
  readonly retryable: boolean

  constructor(
    readonly code: BackupErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {}
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BackupError'
    this.retryable = options.retryable ?? (code === 'corrupt-transfer' || code === 'transfer')
  }
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE'
])

/** The HTTP status behind an error from the storage client, whichever layer raised it. */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; status?: unknown; response?: { status?: unknown } } | null
  for (const value of [e?.response?.status, e?.status, e?.code]) {
    if (typeof value === 'number' && value >= 100 && value < 600) return value
  }
  return undefined
}

/** Worth another attempt later: throttling, server trouble, or a dropped connection. */
export function isTransient(err: unknown): boolean {
  const status = httpStatusOf(err)
  if (status !== undefined) return status === 408 || status === 429 || status >= 500
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return true
  // The resumable uploader reports a retryable failure it gave up on only in its message.
  return err instanceof Error && /^Retry (total time )?limit exceeded/.test(err.message)
}

export function describe(err: unknown): string {
  const status = httpStatusOf(err)
  const message = err instanceof Error ? err.message : String(err)
  return status !== undefined && !message.includes(String(status)) ? `HTTP ${status}: ${message}` : message
}
