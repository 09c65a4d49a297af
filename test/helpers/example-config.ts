import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const EXAMPLE_CONFIG_YML = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'config.yml')

/** Values a reader copies from the Twilio console, in their real shapes. */
export const FILLED_TWILIO = {
  accountSid: `AC${'0123456789abcdef'.repeat(2)}`,
  authToken: 'fedcba9876543210'.repeat(2),
  messagingServiceSid: `MG${'0123456789abcdef'.repeat(2)}`
}

/**
 * examples/config.yml as a reader leaves it after filling in what it marks FILL IN: the
 * private key pasted as a block and the three Twilio keys; nothing else changed.
 */
export function filledExampleConfig(privateKeyPem: string): string {
  const example = readFileSync(EXAMPLE_CONFIG_YML, 'utf8')
  const block = privateKeyPem
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
  const filled = example
    .replace(/^ {2}privateKeyPem:$/m, `  privateKeyPem: |\n${block}`)
    .replace(/^ {2}accountSid: "FILL IN[^"]*"$/m, `  accountSid: ${FILLED_TWILIO.accountSid}`)
    .replace(/^ {2}authToken: "FILL IN[^"]*"$/m, `  authToken: ${FILLED_TWILIO.authToken}`)
    .replace(
      /^ {2}messagingServiceSid: "FILL IN[^"]*"$/m,
      `  messagingServiceSid: ${FILLED_TWILIO.messagingServiceSid}`
    )
  if (/FILL IN:|privateKeyPem:$/m.test(filled.replace(/^\s*#.*$/gm, ''))) {
    throw new Error('examples/config.yml has a placeholder this helper does not fill in')
  }
  return filled
}
