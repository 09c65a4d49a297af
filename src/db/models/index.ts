import type { Pojo } from 'objection'
import type { ContactConsentState } from '../../domain/constants.js'
import { quietHoursOf } from '../../util/quiet-hours.js'
import { BaseModel } from './base.js'

export { BaseModel }

export class Role extends BaseModel {
  static override tableName = 'roles'
  name!: string
}

export class ProbeSettings extends BaseModel {
  static override tableName = 'probe_settings'
  static override booleanColumns = ['active']
  static override timestampColumns = ['created_at', 'updated_at', 'next_fire_at', 'paused_until']
  // Shown as `quiet_hours: {start, end} | null` (see $formatJson).
  static override hiddenColumns = ['quiet_hours_start', 'quiet_hours_end']
  user_id!: number
  active!: boolean
  cron_expression!: string
  max_retries!: number
  wait_time_in_minutes!: number
  time_zone!: string | null
  next_fire_at!: number | null
  /** A press of the check-in link this many minutes or less before a scheduled check-in answers it; 0 = off. */
  checkin_window_minutes!: number
  quiet_hours_start!: string | null
  quiet_hours_end!: string | null
  /** No scheduled check-in before this (epoch ms); null when not paused. */
  paused_until!: number | null

  override $formatJson(json: Pojo): Pojo {
    const quiet = quietHoursOf(json as Pick<ProbeSettings, 'quiet_hours_start' | 'quiet_hours_end'>)
    return { ...super.$formatJson(json), quiet_hours: quiet }
  }
}

export class User extends BaseModel {
  static override tableName = 'users'
  static override hiddenColumns = ['password_hash', 'token_version', 'sms_opted_out_at']
  first_name!: string
  last_name!: string
  email!: string
  phone_number!: string
  password_hash!: string
  /** Goes up when the password or email changes: tokens issued under an older version are refused. */
  token_version!: number
  /** When the user texted STOP (carriers block texts to them until START); null otherwise. */
  sms_opted_out_at!: number | null
  role_id!: number
  probe_settings?: ProbeSettings

  get isAdmin(): boolean {
    return this.role_id === 1
  }

  static override relationMappings = () => ({
    probe_settings: {
      relation: BaseModel.HasOneRelation,
      modelClass: ProbeSettings,
      join: { from: 'users.id', to: 'probe_settings.user_id' }
    }
  })
}

export class Contact extends BaseModel {
  static override tableName = 'contacts'
  static override booleanColumns = ['is_emergency_contact']
  static override timestampColumns = ['created_at', 'updated_at', 'sms_opted_out_at', 'invited_at', 'consent_at']
  // The consent code is the contact's answer to give, not the user's.
  static override hiddenColumns = ['emergency_marked_at', 'consent_code']
  user_id!: number
  first_name!: string
  last_name!: string
  phone_number!: string
  email!: string | null
  is_emergency_contact!: boolean
  emergency_marked_at!: number | null
  /** The contact texted STOP (migration 0013): no alert text can reach them. */
  sms_opted_out_at!: number | null
  /** Whether the contact agreed to be an emergency contact (migration 0019); null: never asked. */
  consent_state!: ContactConsentState | null
  consent_code!: string | null
  invited_at!: number | null
  consent_at!: number | null

  override $formatJson(json: Pojo): Pojo {
    const formatted = super.$formatJson(json)
    // The first Kronus always returned the field; an absent email is an empty string there.
    if (formatted.email === null) formatted.email = ''
    return formatted
  }
}

export class ProbeStatus extends BaseModel {
  static override tableName = 'probe_statuses'
  name!: string
}

export class EmergencyProbe extends BaseModel {
  static override tableName = 'emergency_probes'
  probe_id!: number
  contact_id!: number | null
}

export class Probe extends BaseModel {
  static override tableName = 'probes'
  static override hiddenColumns = ['pending_user_id', 'max_retries', 'wait_time_in_minutes', 'origin', 'start_key']
  user_id!: number
  probe_status_id!: number
  last_response!: string
  retry_count!: number
  max_retries!: number
  wait_time_in_minutes!: number
  origin!: 'scheduled' | 'on_demand'
  pending_user_id!: number | null
  /** What started the probe (migration 0004); unique, so a start that runs twice asks once. */
  start_key!: string | null
  status?: ProbeStatus
  emergency_probe?: EmergencyProbe | null

  static override relationMappings = () => ({
    status: {
      relation: BaseModel.BelongsToOneRelation,
      modelClass: ProbeStatus,
      join: { from: 'probes.probe_status_id', to: 'probe_statuses.id' }
    },
    emergency_probe: {
      relation: BaseModel.HasOneRelation,
      modelClass: EmergencyProbe,
      join: { from: 'probes.id', to: 'emergency_probes.probe_id' }
    }
  })
}

export class Job extends BaseModel {
  static override tableName = 'jobs'
  static override timestampColumns = [
    'created_at',
    'updated_at',
    'run_at',
    'locked_at',
    'lock_expires_at',
    'finished_at'
  ]
  static override hiddenColumns = ['live_key', 'lock_expires_at']
  name!: string
  payload!: string
  status!: string
  live_key!: string | null
  job_key!: string | null
  user_id!: number | null
  run_at!: number
  attempts!: number
  max_attempts!: number
  last_error!: string | null
  locked_at!: number | null
  locked_by!: string | null
  lock_expires_at!: number | null
  finished_at!: number | null
}
