import type { Knex } from 'knex'
import { User, ProbeSettings } from '../db/models/index.js'
import { paginate, type Page } from '../db/paging.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../domain/errors.js'
import { DEFAULT_PROBE_SETTINGS, ROLE_ID } from '../domain/constants.js'
import { hashPassword } from './passwords.js'
import { inTransaction, type Actor, type ServiceContext } from './context.js'

export interface NewUser {
  first_name: string
  last_name: string
  email: string
  phone_number: string
  password: string
}

export type UserPatch = Partial<NewUser>

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
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Creates a user and their default probe settings. Without an actor this is the
   * first sign-up, which makes an admin; the bootstrap claim's primary key lets only one
   * of several simultaneous first sign-ups through.
   */
  async create(input: NewUser, actor: Actor | null, trx?: Knex.Transaction): Promise<User> {
    if (actor && !actor.isAdmin) throw new ForbiddenError('only an admin can create users')
    // Refuse anonymous sign-ups before hashing, so they cannot make the server burn argon2
    // time; the claim inside the transaction still decides races between first sign-ups.
    if (!actor && (await (trx ?? this.ctx.knex)('bootstrap_claims').where({ name: FIRST_ADMIN_CLAIM }).first())) throw tokenRequired()
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
    const user = await User.query(trx ?? this.ctx.knex).findById(id).withGraphFetched('probe_settings')
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
    return paginate(User.query(trx ?? this.ctx.knex).withGraphFetched('probe_settings').orderBy('id'), page)
  }

  async update(id: number, patch: UserPatch, trx?: Knex.Transaction): Promise<User> {
    const fields: Partial<User> = {}
    for (const key of ['first_name', 'last_name', 'email', 'phone_number'] as const) {
      if (patch[key] !== undefined) fields[key] = patch[key]
    }
    if (fields.email !== undefined) fields.email = fields.email.toLowerCase()
    if (patch.password !== undefined) fields.password_hash = await hashPassword(patch.password)
    if (Object.keys(fields).length === 0) throw new ValidationError('no updatable field given (first_name, last_name, email, phone_number, password)')
    fields.updated_at = this.ctx.clock.now()
    try {
      return await inTransaction(this.ctx.knex, trx, async (trx) => {
        const updated = await User.query(trx).patchAndFetchById(id, fields)
        if (!updated) throw new NotFoundError(`user ${id} not found`)
        const changed = Object.keys(fields).filter((f) => f !== 'updated_at').map((f) => (f === 'password_hash' ? 'password' : f))
        await this.ctx.events.record(trx, 'user.updated', { userId: id, fields: changed })
        return this.get(id, trx)
      })
    } catch (err) {
      return duplicateError(err)
    }
  }

  /**
   * Deletes a user with everything of theirs; when the last user goes, the next sign-up
   * may make an admin again. The last admin cannot leave while other users remain: nobody
   * could create or remove users any more, and the first-user rule would not reopen.
   */
  async delete(id: number, trx?: Knex.Transaction): Promise<User> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      const user = await User.query(trx).findById(id)
      if (!user) throw new NotFoundError(`user ${id} not found`)
      if (user.role_id === ROLE_ID.admin) {
        const admins = await this.count(trx, ROLE_ID.admin)
        if (admins === 1 && (await this.count(trx)) > 1) {
          throw new ConflictError('the only admin cannot be deleted while other users exist; delete the other users first')
        }
      }
      await trx('jobs').where({ user_id: id }).whereIn('status', ['scheduled', 'enqueued']).delete()
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
