import type { Logger } from 'pino'
import type { UserService } from './users.js'

/** Runs `task` every `ms` until the returned function is called. */
export type Repeat = (ms: number, task: () => Promise<void>) => () => void

const everyUnref: Repeat = (ms, task) => {
  // unref: a reminder must never keep a stopping process alive.
  const timer = setInterval(task, ms).unref()
  return () => clearInterval(timer)
}

export const FIRST_ADMIN_REMINDER_INTERVAL_MS = 3_600_000

export const FIRST_ADMIN_WARNING =
  'no user exists yet: the first account to sign up (POST /v1/users, no token needed) becomes the admin. ' +
  'Create it from this machine with `kronus user create --admin` before others can reach the server'

/**
 * While no user exists, anyone who reaches the server first becomes its admin. Outside dev
 * mode the server says so at start and every hour until the first account exists.
 */
export class FirstAdminReminder {
  #cancel: (() => void) | undefined

  constructor(
    private readonly users: Pick<UserService, 'anyExists'>,
    private readonly logger: Logger,
    private readonly repeat: Repeat = everyUnref
  ) {}

  async start(): Promise<void> {
    if (!(await this.remind())) return
    this.#cancel = this.repeat(FIRST_ADMIN_REMINDER_INTERVAL_MS, () =>
      this.remind()
        .then((stillNeeded) => {
          if (!stillNeeded) this.stop()
        })
        .catch((err) => this.logger.error({ err }, 'could not check whether a user exists'))
    )
  }

  stop(): void {
    this.#cancel?.()
    this.#cancel = undefined
  }

  /** Logs the warning if no user exists; returns whether it did. */
  async remind(): Promise<boolean> {
    if (await this.users.anyExists()) return false
    this.logger.warn(FIRST_ADMIN_WARNING)
    return true
  }
}
