/**
 * Where backups live in the bucket. Names carry their UTC time with millisecond precision
 * and ':' replaced by '-', so they are safe in every tool and sort by name in time order.
 */

const BACKUP_BASENAME = /^kronus-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})Z\.db$/
const POINTER_BASENAME = 'latest'

export class BackupNames {
  /** The prefix without surrounding slashes; '' puts backups at the bucket's root. */
  readonly prefix: string

  constructor(prefix = '') {
    this.prefix = prefix.replace(/^\/+|\/+$/g, '')
  }

  /** `kronus-2026-11-29T12-00-00.000Z.db` under the prefix. */
  backupAt(takenAt: number): string {
    const stamp = new Date(takenAt).toISOString().replace(/:/g, '-')
    return this.#under(`kronus-${stamp}.db`)
  }

  get pointer(): string {
    return this.#under(POINTER_BASENAME)
  }

  /** What to list to find every backup, and nothing else the prefix might hold. */
  get listPrefix(): string {
    return this.#under('kronus-')
  }

  /** The time a backup object was taken, or null when the object is not one of ours. */
  takenAt(objectName: string): number | null {
    const base = this.#basenameUnderPrefix(objectName)
    const match = base === null ? null : BACKUP_BASENAME.exec(base)
    if (!match) return null
    const ms = Date.parse(`${match[1]}T${match[2]}:${match[3]}:${match[4]}.${match[5]}Z`)
    return Number.isNaN(ms) ? null : ms
  }

  /**
   * The object name for what a user typed: a bare `kronus-....db` gets the prefix, a name
   * that already has it is kept. Returns null for anything that is not a backup name.
   */
  resolve(name: string): string | null {
    const trimmed = name.trim()
    if (this.takenAt(trimmed) !== null) return trimmed
    const withPrefix = this.#under(trimmed)
    return this.takenAt(withPrefix) !== null ? withPrefix : null
  }

  #under(base: string): string {
    return this.prefix ? `${this.prefix}/${base}` : base
  }

  #basenameUnderPrefix(objectName: string): string | null {
    if (!this.prefix) return objectName.includes('/') ? null : objectName
    const head = `${this.prefix}/`
    if (!objectName.startsWith(head)) return null
    const base = objectName.slice(head.length)
    return base.includes('/') ? null : base
  }
}
