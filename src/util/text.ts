/*
 * Control characters (C0, DEL and C1): never part of a name, a phone number or a text
 * someone typed, and PostgreSQL refuses NUL in a text column outright. The REST schemas
 * refuse them (src/http/schemas.ts); inbound texts, which no one can resend, lose them.
 */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g
/** Whether `text` holds a control character. */
export function containsControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text)
}

const LINE_BREAK_OR_TAB = /[\t\n\v\f\r]+/g

/** `text` without control characters; line breaks and tabs become a space so words stay apart. */
export function stripControlCharacters(text: string): string {
  return text.replace(LINE_BREAK_OR_TAB, ' ').replace(CONTROL_CHARACTERS, '')
}
