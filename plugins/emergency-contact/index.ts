/**
 * emergency-contact: when a probe ends `bad` or `unavailable`, texts every emergency
 * contact of the user (in the order they were marked), turns the user's probes off, and
 * once the texts have gone out tells the user whom Kronus reached. An alert that reaches
 * nobody is recorded and logged as an error, and the user is told.
 */
import Joi from 'joi'
import { definePlugin } from 'kronus'
import { alertEmergencyContacts, DELIVERIES } from './alert.js'
import { alertTexts, recordDelivery } from './deliveries.js'
import { alertDeliveriesTable } from './migrations/0001_alert_deliveries.js'

declare module 'kronus' {
  interface KronusEvents {
    /** The alerts to these contacts were queued. */
    'emergency-contact.alerted': {
      userId: number
      probeId: number
      status: 'bad' | 'unavailable'
      contactIds: number[]
    }
    /** Every alert of the probe has an outcome; the user is being told. Names as they were texted. */
    'emergency-contact.reported': {
      userId: number
      probeId: number
      status: 'bad' | 'unavailable'
      reached: string[]
      failed: string[]
    }
    /** Nobody could be alerted: the user has no emergency contact, or every text failed. */
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
  /** Tries of one alert before it gives up (a job.dead event then reports it). Default 10. */
  maxAttempts?: number
}

export const emergencyContact = definePlugin<EmergencyContactOptions>({
  name: 'emergency-contact',
  version: '1.0.0',
  options: Joi.object<EmergencyContactOptions>({ maxAttempts: Joi.number().integer().min(1).max(100).default(10) }),
  events: ['emergency-contact.alerted', 'emergency-contact.reported', 'emergency-contact.unreachable'],
  migrations: [alertDeliveriesTable],
  tables: [DELIVERIES],

  register(kronus, options) {
    // Durable: an emergency recorded just before a crash is still relayed after the restart.
    kronus.events.subscribe('alert', 'emergency.triggered', (event) => alertEmergencyContacts(kronus, event), {
      maxAttempts: options.maxAttempts ?? 10
    })
    kronus.events.subscribe(
      'deliveries',
      ['message.sent', 'message.failed'],
      (event) => recordDelivery(kronus, event),
      {
        wants: (events, trx) => alertTexts(kronus, events, trx)
      }
    )
  }
})
