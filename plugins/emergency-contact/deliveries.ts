import type { Knex } from 'knex'
import { chunks, type PluginContext, type RecordedEvent } from 'kronus'
import { alertKey, DELIVERIES } from './alert.js'
import { type EmergencyStatus, emergencyTexts } from './texts.js'

interface DeliveryRow {
  id: number
  probe_id: number
  user_id: number
  contact_name: string
  status: 'sending' | 'reached' | 'failed'
}

/**
 * Every alert of the probe has an outcome: tell the user whom Kronus reached. If it
 * reached nobody, that is an event and an error in the log, and the user is told to get
 * help another way: an alarm must never end in silence.
 */
async function report(kronus: PluginContext, probeId: number, userId: number, trx: Knex.Transaction): Promise<void> {
  const rows: DeliveryRow[] = await kronus.db.table(DELIVERIES, trx).where({ probe_id: probeId }).orderBy('id')
  const reached = rows.filter((row) => row.status === 'reached').map((row) => row.contact_name)
  const failed = rows.filter((row) => row.status === 'failed').map((row) => row.contact_name)
  const probe = await kronus.probes.find(probeId, trx)
  const user = await kronus.users.find(userId, trx)
  if (!probe || !user) return
  const status: EmergencyStatus = probe.status === 'bad' ? 'bad' : 'unavailable'

  await kronus.events.record(trx, 'emergency-contact.reported', { userId, probeId, status, reached, failed })
  let text: string
  if (reached.length === 0) {
    await kronus.events.record(trx, 'emergency-contact.unreachable', {
      userId,
      probeId,
      status,
      reason: 'every_text_failed',
      contacts: failed
    })
    kronus.logger.error(
      { userId, probeId, status, failed },
      'EMERGENCY NOT RELAYED: no emergency contact could be texted'
    )
    text = emergencyTexts.toUserNobodyReached(failed)
  } else {
    text = emergencyTexts.toUserReached(status, reached, failed)
  }
  await kronus.messaging.send({ to: user.phone_number, text, userId, key: alertKey(probeId, 'user') }, trx)
}

/**
 * message.sent / message.failed: if the text was an alert still waiting for its outcome,
 * records it; the outcome that completes an alert triggers the report to the user.
 */
/**
 * Which texts are to emergency contacts with an alert still sending: only those are
 * delivered to recordDelivery, so a fan-out's probe texts cost it no job. The alert's row
 * is written with its text, before the text can be sent.
 */
export async function alertTexts(
  kronus: PluginContext,
  events: Array<RecordedEvent<'message.sent' | 'message.failed'>>,
  trx: Knex.Transaction
): Promise<boolean[]> {
  const userIds = [...new Set(events.map((e) => e.payload.userId).filter((id): id is number => id !== null))]
  const sending = new Set<string>()
  for (const ids of chunks(userIds)) {
    const rows: Array<{ user_id: number | string; phone_number: string }> = await kronus.db
      .table(DELIVERIES, trx)
      .select('user_id', 'phone_number')
      .where('status', 'sending')
      .whereIn('user_id', ids)
    for (const row of rows) sending.add(`${Number(row.user_id)}:${row.phone_number}`)
  }
  return events.map((e) => e.payload.userId !== null && sending.has(`${e.payload.userId}:${e.payload.to}`))
}

export async function recordDelivery(
  kronus: PluginContext,
  event: RecordedEvent<'message.sent' | 'message.failed'>
): Promise<void> {
  const { userId, to, text } = event.payload
  if (userId === null) return
  await kronus.db.transaction(async (trx) => {
    const row: DeliveryRow | undefined = await kronus.db
      .table(DELIVERIES, trx)
      .where({ user_id: userId, phone_number: to, text, status: 'sending' })
      .orderBy('id')
      .first()
    if (!row) return
    const outcome = event.type === 'message.sent' ? 'reached' : 'failed'
    const error = event.type === 'message.failed' ? (event.payload as { error: string }).error : null
    const changed = await kronus.db
      .table(DELIVERIES, trx)
      .where({ id: row.id, status: 'sending' })
      .update({ status: outcome, error, updated_at: kronus.clock.now() })
    if (changed !== 1) return
    if (outcome === 'failed')
      kronus.logger.error(
        { userId, probeId: row.probe_id, error },
        `the alert to emergency contact ${row.contact_name} failed`
      )
    const [{ n }] = (await kronus.db
      .table(DELIVERIES, trx)
      .where({ probe_id: row.probe_id, status: 'sending' })
      .count({ n: '*' })) as Array<{ n: number | string }>
    if (Number(n) === 0) await report(kronus, row.probe_id, userId, trx)
  })
}
