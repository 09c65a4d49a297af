import { Model, type Pojo } from 'objection'
import { toRfc3339 } from '../../util/time.js'

/**
 * Rows keep epoch-millisecond timestamps and SQLite's 0/1 booleans; JSON shows RFC 3339
 * and real booleans, which is what the REST contract promises.
 */
export class BaseModel extends Model {
  id!: number
  created_at!: number
  updated_at!: number

  static booleanColumns: string[] = []
  static timestampColumns: string[] = ['created_at', 'updated_at']
  /** Columns never serialised, whatever the route. */
  static hiddenColumns: string[] = []

  override $parseDatabaseJson(json: Pojo): Pojo {
    const parsed = super.$parseDatabaseJson(json)
    const ctor = this.constructor as typeof BaseModel
    for (const column of ctor.booleanColumns) {
      if (column in parsed && parsed[column] !== null) parsed[column] = Boolean(parsed[column])
    }
    for (const column of ctor.timestampColumns) {
      if (column in parsed && parsed[column] !== null) parsed[column] = Number(parsed[column])
    }
    return parsed
  }

  override $formatJson(json: Pojo): Pojo {
    const formatted = super.$formatJson(json)
    const ctor = this.constructor as typeof BaseModel
    for (const column of ctor.timestampColumns) {
      if (column in formatted) formatted[column] = toRfc3339(formatted[column])
    }
    for (const column of ctor.hiddenColumns) delete formatted[column]
    return formatted
  }
}
