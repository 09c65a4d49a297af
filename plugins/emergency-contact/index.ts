/**
 * emergency-contact: the first Kronus's emergency history, kept around the core's alarm
 * engine (src/alarms/), which now does the alerting itself: it raises an alarm in the
 * transaction of the "no" (or the silence), texts the contacts with a code to answer,
 * escalates until one acknowledges, and tells the user the truth at each step. Were this
 * plugin still texting the contacts on `emergency.triggered`, every alarm would reach them
 * twice, so it no longer does, and it no longer turns the user's check-ins off (the
 * engine pauses them while an alarm is open and resumes them after the all-clear).
 *
 * What it still does, for whoever relied on it: on `alarm.raised` for a probe it records
 * the probe's emergency probes (one per alerted contact) and its `emergency-contact.alerted`
 * event, or `emergency-contact.unreachable` when the user has no emergency contact (not
 * for a duress alarm, which its user must never see a trace of). Its
 * table `emergency_alert_deliveries` keeps the alerts of earlier versions; the engine's
 * alarm_contacts and alarm_timeline hold what became of each alert now.
 */
import Joi from 'joi'
import { definePlugin } from 'kronus'
import { DELIVERIES, recordAlerted } from './alert.js'
import { alertDeliveriesTable } from './migrations/0001_alert_deliveries.js'

declare module 'kronus' {
  interface KronusEvents {
    /** The alarm of this probe alerted these contacts. */
    'emergency-contact.alerted': {
      userId: number
      probeId: number
      status: 'bad' | 'unavailable'
      contactIds: number[]
    }
    /** Recorded by earlier versions once every alert had an outcome (the alarm's timeline holds it now). */
    'emergency-contact.reported': {
      userId: number
      probeId: number
      status: 'bad' | 'unavailable'
      reached: string[]
      failed: string[]
    }
    /** Nobody could be alerted: the user has no emergency contact. */
    'emergency-contact.unreachable': {
      userId: number
      probeId: number
      status: 'bad' | 'unavailable'
      reason: 'no_emergency_contact' | 'every_text_failed'
      contacts: string[]
    }
  }
}

export interface EmergencyContactOptions {
  /** Tries of one record before it gives up (a job.dead event then reports it). Default 10. */
  maxAttempts?: number
}

export const emergencyContact = definePlugin<EmergencyContactOptions>({
  name: 'emergency-contact',
  version: '2.0.0',
  options: Joi.object<EmergencyContactOptions>({ maxAttempts: Joi.number().integer().min(1).max(100).default(10) }),
  events: ['emergency-contact.alerted', 'emergency-contact.reported', 'emergency-contact.unreachable'],
  migrations: [alertDeliveriesTable],
  tables: [DELIVERIES],

  register(kronus, options) {
    // Durable: an alarm raised just before a crash is still recorded after the restart.
    kronus.events.subscribe('alarm-history', 'alarm.raised', (event) => recordAlerted(kronus, event), {
      maxAttempts: options.maxAttempts ?? 10
    })
  }
})
