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
