/**
 * The config.yml of the first Kronus's README, character for character (its sample values
 * included), as an existing deployment would have it. The README's text lost its
 * indentation; the nesting is the Go ServerConfig's: `kronus`, `sqlite` and `google` side
 * by side at the top level, plus `twilio`.
 */
export const SEED_CONFIG_YML = `kronus:
  # A valid RSA private key for creating/validating kronus server jwts
  # You can can use this https://mkjwk.org/ to generate one
  privateKeyPem:

  # If deployed to a production env, the public url of the server.
  # It's required, as this will be used for the twilio webhook
  publicUrl: "https://my-app.com"

  cron:
    # Timezone to use for scheduling probes
    timeZone: "America/Toronto"

  listener:
    port: 3900

sqlite:
  passPhrase: passphrase

google:
  storage:
    bucket: "gstorage-bucket-name"
    # The folder/path to store backup files
    prefix: "kronus"
    # How often you want your sqlite db to be backed up to google storage in cron format
    sqliteBackupSchedule: "0 * * * *"
    enableSqliteBackupAndSync: true

  # The path to google service account credentials. You may not need to set this, if the
  # kronus server is deployed to a google compute engine instance - the default credentials may be used instead.
  applicationCredentials: "/path/to/google/credentials"

twilio:
  accountSid: AHKX00SXXXXXXXXXXXXXXXXXXX
  authToken: BHKX00SXXXXXXXXXXXXXXXXXXX
  messagingServiceSid: CHKX00SXXXXXXXXXXXXXXXXXXX
`

/** The seed's file with a key pasted in, as a deployment that keeps the key in the file has it. */
export function seedConfigWithKey(pem: string): string {
  const block = pem
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
  return SEED_CONFIG_YML.replace('  privateKeyPem:\n', `  privateKeyPem: |\n${block}\n`)
}

/**
 * The seed's layout as a fresh deployment of the first Kronus has it: the secrets left
 * empty (to come from the environment), `applicationCredentials:` empty as the Go dev
 * config ships it, and an empty quoted value.
 */
export const SEED_CONFIG_WITH_EMPTY_VALUES_YML = SEED_CONFIG_YML.replace(
  '  applicationCredentials: "/path/to/google/credentials"',
  '  applicationCredentials:'
).replace('    prefix: "kronus"', '    prefix: ""')
