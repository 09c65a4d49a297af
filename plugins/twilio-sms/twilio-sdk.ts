import { createRequire } from 'node:module'
import type Twilio from 'twilio'

const require = createRequire(import.meta.url)

/**
 * The twilio SDK, loaded the first time a transport or a webhook needs it: bin/kronus.js
 * imports every built-in plugin (for their commands), and loading the SDK alone would about
 * double the time of `kronus --version`.
 */
export function twilioSdk(): typeof Twilio {
  return require('twilio') as typeof Twilio
}
