import type { Knex } from 'knex'
import { uniqueViolationColumn } from '../db/errors.js'
import { ProbeSettings, User } from '../db/models/index.js'
import { type Page, paginate } from '../db/paging.js'
import { DEFAULT_PROBE_SETTINGS, ROLE_ID } from '../domain/constants.js'
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError
} from '../domain/errors.js'
import { toRfc3339 } from '../util/time.js'
import { type Actor, inTransaction, type ServiceContext } from './context.js'
import { assertAcceptablePassword, hashPassword, verifyPassword } from './passwords.js'
import type { RateLimiter } from './rate-limit.js'

export interface NewUser {
  first_name: string
  last_name: string
  email: string
  phone_number: string
  password: string
}

export type UserPatch = Partial<NewUser> & {
  /** Required when the patch changes the password or the email: a token alone must not take an account over. */
  current_password?: string
}

const FIRST_ADMIN_CLAIM = 'first_admin'

function duplicateError(err: unknown): never {
  const column = uniqueViolationColumn(err)
  if (column === 'email') throw new ConflictError('email is already in use')
  if (column === 'phone_number') throw new ConflictError('phone_number is already in use')
  throw err
}

function tokenRequired(): UnauthorizedError {
  return new UnauthorizedError('a token is required: only the first user can sign up without one')
}

export class UserService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly limiter: RateLimiter
  ) {}

  /**
   * Creates a user and their default probe settings. Without an actor this is the
   * first sign-up, which makes an admin; the bootstrap claim's primary key lets only one
   * of several simultaneous first sign-ups through.
   */
  async create(input: NewUser, actor: Actor | null, trx?: Knex.Transaction): Promise<User> {
    if (actor && !actor.isAdmin) throw new ForbiddenError('only an admin can create users')
    // Refuse anonymous sign-ups before hashing, so they cannot make the server burn argon2
    // time; the claim inside the transaction still decides races between first sign-ups.
    if (!actor && (await (trx ?? this.ctx.knex)('bootstrap_claims').where({ name: FIRST_ADMIN_CLAIM }).first()))
      throw tokenRequired()
    assertAcceptablePassword(input.password)
    const passwordHash = await hashPassword(input.password)
    const now = this.ctx.clock.now()
    try {
      return await inTransaction(this.ctx.knex, trx, async (trx) => {
        let roleId: number = ROLE_ID.basic
        if (!actor) {
          const claimed = await trx('bootstrap_claims')
            .insert({ name: FIRST_ADMIN_CLAIM, created_at: now })
            .onConflict('name')
            .ignore()
            .returning('name')
          const won = Array.isArray(claimed) ? claimed.length > 0 : Boolean(claimed)
          if (!won) throw tokenRequired()
          roleId = ROLE_ID.admin
        }
        const user = await User.query(trx).insertAndFetch({
          first_name: input.first_name,
          last_name: input.last_name,
          // Stored lower-case so that uniqueness and login ignore case, whoever calls the service.
          email: input.email.toLowerCase(),
          phone_number: input.phone_number,
          password_hash: passwordHash,
          role_id: roleId,
          created_at: now,
          updated_at: now
        })
        user.probe_settings = await ProbeSettings.query(trx).insertAndFetch({
          user_id: user.id,
          ...DEFAULT_PROBE_SETTINGS,
          time_zone: null,
          next_fire_at: null,
          created_at: now,
          updated_at: now
        })
        await this.ctx.events.record(trx, 'user.created', { userId: user.id, isAdmin: roleId === ROLE_ID.admin })
        return user
      })
    } catch (err) {
      return duplicateError(err)
    }
  }

  /** Whether any user exists: while none does, the next sign-up without a token becomes the admin. */
  async anyExists(trx?: Knex.Transaction): Promise<boolean> {
    return (await (trx ?? this.ctx.knex)('users').first('id')) !== undefined
  }

  async get(id: number, trx?: Knex.Transaction): Promise<User> {
    // Joined, not fetched: one query, not two, on every read of a user.
    const user = await User.query(trx ?? this.ctx.knex)
      .findById(id)
      .withGraphJoined('probe_settings')
    if (!user) throw new NotFoundError(`user ${id} not found`)
    return user
  }

  /** Looks a user up without throwing; authentication uses it to refuse tokens of deleted users. */
  async find(id: number, trx?: Knex.Transaction): Promise<User | undefined> {
    return User.query(trx ?? this.ctx.knex).findById(id)
  }

  async findByEmail(email: string, trx?: Knex.Transaction): Promise<User | undefined> {
    return User.query(trx ?? this.ctx.knex).findOne({ email: email.toLowerCase() })
  }

  async findByPhone(phoneNumber: string, trx?: Knex.Transaction): Promise<User | undefined> {
    return User.query(trx ?? this.ctx.knex).findOne({ phone_number: phoneNumber })
  }

  async list(page: number, trx?: Knex.Transaction): Promise<Page<User>> {
    return paginate(
      User.query(trx ?? this.ctx.knex)
        .withGraphFetched('probe_settings')
        .orderBy('id'),
      page
    )
  }

  /**
   * Changes a user's record. Changing the password or the email needs the current password
   * (checked under a per-user hourly limit, so a token cannot turn argon2 into a CPU lever)
   * and moves the user's token version on, which ends every token issued before.
   */
  async update(id: number, patch: UserPatch, trx?: Knex.Transaction): Promise<User> {
    const fields: Partial<Omit<User, 'token_version'>> & { token_version?: unknown } = {}
    for (const key of ['first_name', 'last_name', 'email', 'phone_number'] as const) {
      if (patch[key] !== undefined) fields[key] = patch[key]
    }
    if (fields.email !== undefined) fields.email = fields.email.toLowerCase()
    if (Object.keys(fields).length === 0 && patch.password === undefined) {
      throw new ValidationError('no updatable field given (first_name, last_name, email, phone_number, password)')
    }
    if (patch.password !== undefined) assertAcceptablePassword(patch.password)
    const user = await User.query(trx ?? this.ctx.knex).findById(id)
    if (!user) throw new NotFoundError(`user ${id} not found`)
    if (patch.password !== undefined || (fields.email !== undefined && fields.email !== user.email)) {
      await this.checkCurrentPassword(user, patch.current_password, trx)
      if (patch.password !== undefined) fields.password_hash = await hashPassword(patch.password)
      // Incremented in SQL: two changes at once both end the tokens before them.
      fields.token_version = this.ctx.knex.raw('token_version + 1')
    }
    fields.updated_at = this.ctx.clock.now()
    try {
      return await inTransaction(this.ctx.knex, trx, async (trx) => {
        const updated = await User.query(trx).patchAndFetchById(id, fields as Partial<User>)
        if (!updated) throw new NotFoundError(`user ${id} not found`)
        const changed = Object.keys(fields)
          .filter((f) => f !== 'updated_at' && f !== 'token_version')
          .map((f) => (f === 'password_hash' ? 'password' : f))
        await this.ctx.events.record(trx, 'user.updated', { userId: id, fields: changed })
        return this.get(id, trx)
      })
    } catch (err) {
      return duplicateError(err)
    }
  }

  /** Each attempt is counted before the hash is checked, right or wrong, so guesses and changes share one budget. */
  private async checkCurrentPassword(
    user: User,
    currentPassword: string | undefined,
    trx?: Knex.Transaction
  ): Promise<void> {
    if (currentPassword === undefined) {
      throw new ValidationError('"current_password" is required to change the password or email')
    }
    const perHour = this.ctx.config.auth.maxPasswordChangesPerHour
    const wait = await this.limiter.consume(`password-change:user:${user.id}`, perHour, 3_600_000, trx)
    if (wait > 0) throw new RateLimitedError(`too many password or email changes; try again in ${wait} seconds`, wait)
    const correct = await verifyPassword(user.password_hash, currentPassword)
    if (!correct) throw new ForbiddenError('"current_password" is incorrect')
  }

  /**
   * Deletes a user with everything of theirs; when the last user goes, the next sign-up
   * may make an admin again. The last admin cannot leave while other users remain: nobody
   * could create or remove users any more, and the first-user rule would not reopen.
   *
   * A user with an alarm not yet resolved is kept unless `force` is given: someone may be in
   * trouble right now. With `force` the user goes and their alarms stay, as the snapshots
   * they are (the user's name and number are copied onto them), and go on reaching the contacts.
   */
  async delete(id: number, trx?: Knex.Transaction, options: { force?: boolean } = {}): Promise<User> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      // Locked (on PostgreSQL) so an alarm raised for this user either commits before the
      // check below sees it, or is raised after the user is gone (and then has its snapshot).
      const user = await User.query(trx).findById(id).forUpdate()
      if (!user) throw new NotFoundError(`user ${id} not found`)
      if (!options.force) {
        const open = (await trx('alarms')
          .where({ user_id: id })
          .whereNot({ status: 'resolved' })
          .orderBy('id')
          .first('id', 'code', 'status', 'created_at')) as
          | { id: number; code: string; status: string; created_at: number | string }
          | undefined
        if (open) {
          throw new ConflictError(
            `user ${id} has an ${open.status} alarm (alarm ${open.id}, code ${open.code}, raised ` +
              `${toRfc3339(Number(open.created_at))}): it ends when the user texts OK or a contact texts ` +
              `SAFE ${open.code}; to delete the user anyway, use ?force=true (the alarm is kept and its escalation goes on)`
          )
        }
      }
      if (user.role_id === ROLE_ID.admin) {
        const admins = await this.count(trx, ROLE_ID.admin)
        if (admins === 1 && (await this.count(trx)) > 1) {
          throw new ConflictError(
            'the only admin cannot be deleted while other users exist; delete the other users first'
          )
        }
      }
      // Their pending jobs go with them, except an alarm's work (any job with a priority:
      // its texts, calls and steps): an alarm raised before the deletion still goes out.
      await trx('jobs').where({ user_id: id, priority: 0 }).whereIn('status', ['scheduled', 'enqueued']).delete()
      await User.query(trx).deleteById(id)
      await this.ctx.events.record(trx, 'user.deleted', { userId: id })
      if ((await this.count(trx)) === 0) await trx('bootstrap_claims').where({ name: FIRST_ADMIN_CLAIM }).delete()
      return user
    })
  }

  private async count(trx: Knex.Transaction, roleId?: number): Promise<number> {
    const query = trx('users').count({ n: '*' })
    if (roleId !== undefined) query.where({ role_id: roleId })
    const [row] = (await query) as Array<{ n: number | string }>
    return Number(row?.n ?? 0)
  }
}
