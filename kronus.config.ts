/**
 * Kronus configuration: a working example. Start with it:
 *
 *   KRONUS_PRIVATE_KEY_FILE=./secrets/private-key.pem \
 *   KRONUS_SQLITE_PASSPHRASE='a long random passphrase' \
 *   npx kronus server --config kronus.config.ts
 *
 * (`kronus server` without --config also finds this file in the current folder.)
 * To try Kronus without any of this, run `npx kronus server --dev`.
 *
 * Where each value comes from, highest precedence first:
 *   1. KRONUS_PORT, which always sets the port;
 *   2. this file;
 *   3. secrets from the environment, used only where this file has no value:
 *      KRONUS_PRIVATE_KEY_PEM (or KRONUS_PRIVATE_KEY_FILE, a path to the PEM file),
 *      KRONUS_SQLITE_PASSPHRASE, KRONUS_DATABASE_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
 *      TWILIO_MESSAGING_SERVICE_SID, KRONUS_METRICS_TOKEN, GOOGLE_APPLICATION_CREDENTIALS;
 *   4. with --dev, a key and passphrase generated once and kept in ./dev;
 *   5. the defaults noted below.
 *
 * Never write a secret into this file: it is meant to be committed.
 * A config.yml of the first Kronus works unchanged too: see examples/config.yml.
 */
import { defineConfig } from 'kronus'
import { alivenessLogger } from './examples/plugins/aliveness-logger.js'

export default defineConfig({
  kronus: {
    // RSA private key (PEM) that signs access tokens. Generate one with
    //   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out private-key.pem
    // Left undefined here, it is read from KRONUS_PRIVATE_KEY_PEM or KRONUS_PRIVATE_KEY_FILE.
    privateKeyPem: process.env.KRONUS_PRIVATE_KEY_PEM,
    // The address people and Twilio reach this server at, with its scheme. Twilio signs
    // webhooks against it, so it must be exactly what Twilio calls.
    publicUrl: process.env.KRONUS_PUBLIC_URL ?? 'http://localhost:3900',
    cron: {
      // Time zone of probe schedules (IANA name). Default UTC.
      timeZone: 'America/Toronto'
    },
    listener: {
      // Default 3900. KRONUS_PORT, when set, wins over this value.
      port: 3900
      // Behind nginx or Caddy: the proxies whose X-Forwarded-For names the client (see README).
      // trustProxy: ['127.0.0.1', '::1']
    },
    sqlite: {
      // Encrypts the database. Keep it safe: without it the data cannot be read, not even
      // from a backup. Read from KRONUS_SQLITE_PASSPHRASE.
      passPhrase: process.env.KRONUS_SQLITE_PASSPHRASE
    }
  },

  google: {
    storage: {
      bucket: 'my-kronus-backups',
      // Folder inside the bucket. Default "kronus".
      prefix: 'kronus',
      // When to back the database up, as a 5-field cron expression. Default every 15 minutes.
      sqliteBackupSchedule: '*/15 * * * *',
      // Back up on the schedule and at shutdown, and restore the stored copy at start-up.
      // Default false; dev mode always turns it off.
      enableSqliteBackupAndSync: false
    }
    // Path to a service-account JSON file; read from GOOGLE_APPLICATION_CREDENTIALS, and
    // on Google Cloud the machine's default credentials are used when neither is set.
    // applicationCredentials: '/path/to/credentials.json',
  },

  twilio: {
    // From the Twilio console. All three are read from the environment here.
    accountSid: process.env.TWILIO_ACCOUNT_SID,
    authToken: process.env.TWILIO_AUTH_TOKEN,
    messagingServiceSid: process.env.TWILIO_MESSAGING_SERVICE_SID
  },

  // GET /metrics for Prometheus (README: Metrics): off (404) until a token or allowFrom is set.
  // metrics: { token: process.env.KRONUS_METRICS_TOKEN, allowFrom: ['127.0.0.1'] },

  logging: {
    // fatal, error, warn, info (default), debug, trace or silent.
    level: 'info'
  },

  // ── Plugins ──────────────────────────────────────────────────────────────────────
  // Plugins add what talks to the outside world (text messages, backups, webhooks...).
  // List them here; they start in this order and stop in reverse. See plugins/ and
  // docs/ARCHITECTURE.md for the plugins that ship with Kronus and how to add them.
  plugins: [
    // An example of a plugin of your own (see docs/PLUGINS.md): logs aliveness changes,
    // with a summary every morning.
    alivenessLogger({ summaryCron: '0 8 * * *' })
  ]
})
