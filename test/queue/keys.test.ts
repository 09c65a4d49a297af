import t from 'tap'
import {
  alarmCallKey,
  alarmContactIdOf,
  alarmContactRef,
  alarmStepKey,
  alarmTextKey,
  alarmUserRef,
  contactConsentTextKey,
  contactInviteRef,
  contactInviteTextKey,
  cronFireKey,
  eventDeliveryLane,
  messageSendKey,
  onDemandProbeStartKey,
  probeAskTextKey,
  probeFireKey,
  probeFollowUpKey,
  probeFollowUpTextKey,
  probeTextRef,
  scheduledProbeStartKey
} from '../../src/queue/keys.js'

// Databases written by earlier versions hold these strings: a live job or a started probe
// is recognised by them after an upgrade only if they are built exactly as before.
t.test('job, lane and idempotency keys are the strings existing databases hold', async (t) => {
  t.equal(probeFireKey(7, 1767290400000), 'probe.fire:7:1767290400000')
  t.equal(scheduledProbeStartKey(7, 1767290400000), 'fire:7:1767290400000')
  t.equal(onDemandProbeStartKey('9b2e'), 'on_demand:9b2e')
  t.equal(probeFollowUpKey(12, 0), 'probe.follow_up:12:0')
  t.equal(probeAskTextKey(12), 'probe:12:ask')
  t.equal(probeFollowUpTextKey(12, 2), 'probe:12:follow_up:2')
  t.equal(messageSendKey(probeAskTextKey(12)), 'message:probe:12:ask')
  t.equal(cronFireKey('backup.run', 1767290400000), 'cron:backup.run:1767290400000')
  t.equal(eventDeliveryLane('webhooks', 3), 'events:webhooks:3')
  t.equal(eventDeliveryLane('webhooks', null), 'events:webhooks:global')
  t.equal(alarmStepKey(4, 2), 'alarm.step:4:2')
  t.equal(alarmTextKey(4, 'contact:9:alert'), 'alarm:4:contact:9:alert')
  t.equal(alarmCallKey(9, 'step:2'), 'alarm-contact:9:step:2')
  t.equal(contactInviteTextKey(5, 1767290400000), 'contact-invite:5:1767290400000')
  t.equal(contactConsentTextKey(5, 'agreed', 1767290400000), 'contact-consent:5:agreed:1767290400000')
})

// message_sends.ref holds refs: a delivery receipt that arrives after an upgrade must still
// find the alarm contact its text was for.
t.test('refs are the strings existing databases hold, and an alarm contact is read back from its ref', async (t) => {
  t.equal(alarmContactRef(9), 'alarm-contact:9')
  t.equal(alarmUserRef(4), 'alarm-user:4')
  t.equal(probeTextRef(12), 'probe:12')
  t.equal(contactInviteRef(5), 'contact-invite:5')
  t.equal(alarmContactIdOf(contactInviteRef(5)), null)
  t.equal(alarmContactIdOf(alarmContactRef(9)), 9)
  t.equal(alarmContactIdOf(alarmUserRef(4)), null)
  t.equal(alarmContactIdOf(probeTextRef(12)), null)
  t.equal(alarmContactIdOf(null), null)
})
