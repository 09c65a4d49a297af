/**
 * What Twilio's delivery error codes (the ErrorCode of an undelivered or failed status
 * callback) mean, in words an operator or a report to a user can carry.
 */
export const TWILIO_DELIVERY_ERRORS: ReadonlyMap<number, string> = new Map([
  [30001, 'Twilio queue overflow: too many texts queued at once'],
  [30002, 'the Twilio account is suspended'],
  [30003, 'the phone is unreachable (switched off or out of coverage)'],
  [30004, 'the text was blocked by the recipient or their carrier'],
  [30005, 'the number is unknown or no longer in service'],
  [30006, 'the number is a landline or its carrier cannot receive texts'],
  [30007, 'the carrier filtered the text (spam filter or carrier violation)'],
  [30008, 'unknown delivery error from the carrier'],
  [30009, 'part of the text never arrived (missing segment)'],
  [30010, "the text's price exceeds the maximum price set"],
  [30022, 'A2P 10DLC throughput limit exceeded'],
  [30032, 'the toll-free sender number is not verified'],
  [30034, 'the sender number is not registered for A2P 10DLC'],
  [30036, 'the text waited in Twilio longer than its validity period and was dropped']
])

/**
 * Twilio error codes that refuse the account itself, not one text or its recipient: every
 * text fails the same way until the operator acts, so Kronus reports itself degraded at
 * once (MessageDeliveryError.accountLevel at send time, DeliveryReport.accountLevel in a
 * receipt). 20003 and 20005 come from the API when a text is sent; 30002 and 30034 in
 * delivery receipts.
 */
export const ACCOUNT_TWILIO_ERROR_CODES: ReadonlySet<number> = new Set([20003, 20005, 30002, 30034])

/** Twilio's own words when it gave them, else ours for the code, else the bare code or status. */
export function deliveryErrorText(status: string, errorCode: number | null, twilioMessage: string | null): string {
  const known = errorCode === null ? undefined : TWILIO_DELIVERY_ERRORS.get(errorCode)
  const reason = known ?? twilioMessage ?? (errorCode === null ? null : 'see https://www.twilio.com/docs/api/errors')
  if (errorCode === null) return reason ? `${status}: ${reason}` : `${status} (Twilio gave no error code)`
  return `${status} (Twilio error ${errorCode}): ${reason}`
}
