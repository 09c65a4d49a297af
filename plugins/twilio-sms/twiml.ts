const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;'
}

// Characters XML 1.0 cannot carry at all, even escaped; Twilio would reject the reply.
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

export function escapeXml(text: string): string {
  return text.replace(XML_FORBIDDEN, '').replace(/[&<>"']/g, (ch) => XML_ESCAPES[ch]!)
}

const XML_UNESCAPES = new Map(Object.entries(XML_ESCAPES).map(([ch, entity]) => [entity, ch]))

/** The texts of a messaging TwiML reply, as twimlReply wrote them: one per <Message>. */
export function twimlMessages(twiml: string): string[] {
  return [...twiml.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((match) =>
    match[1]!.replace(/&(amp|lt|gt|quot|apos);/g, (entity) => XML_UNESCAPES.get(entity)!)
  )
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

export const TWIML_CONTENT_TYPE = 'text/xml; charset=utf-8'

/** A messaging TwiML reply: one <Message> per text, or none (an empty <Response/>). */
export function twimlReply(...texts: string[]): string {
  const messages = texts
    .filter((text) => text.length > 0)
    .map((text) => `<Message>${escapeXml(text)}</Message>`)
    .join('')
  return messages ? `${XML_DECLARATION}<Response>${messages}</Response>` : `${XML_DECLARATION}<Response/>`
}

export function emptyTwimlReply(): string {
  return twimlReply()
}

export interface VoiceAlert {
  /** Said first: the alert. */
  say: string
  /** Said while listening for one key, e.g. "Press 1 if you will check on Bob." */
  prompt: string
  /** The absolute URL Twilio posts the key to (the Gather action). */
  gatherAction: string
}

/** Seconds the call waits for a key after the prompt. */
const GATHER_TIMEOUT_SECONDS = 8

/**
 * A call's TwiML: the alert, then the prompt while listening for one key; with no key
 * pressed, the alert and the prompt once more (someone who picked up late hears it whole),
 * then goodbye. A key pressed ends the TwiML here: Twilio posts it to the Gather action and
 * plays what that answers.
 */
export function voiceAlertTwiml(alert: VoiceAlert): string {
  const action = escapeXml(alert.gatherAction)
  const gather = (inner: string) =>
    `<Gather input="dtmf" numDigits="1" timeout="${GATHER_TIMEOUT_SECONDS}" method="POST" action="${action}">${inner}</Gather>`
  const say = (text: string) => `<Say>${escapeXml(text)}</Say>`
  return (
    `${XML_DECLARATION}<Response>${say(alert.say)}${gather(say(alert.prompt))}` +
    `${gather(say(alert.say) + say(alert.prompt))}${say('Goodbye.')}</Response>`
  )
}

/** A voice TwiML reply that says `text` and hangs up. */
export function voiceSayTwiml(text: string): string {
  return `${XML_DECLARATION}<Response><Say>${escapeXml(text)}</Say><Hangup/></Response>`
}
