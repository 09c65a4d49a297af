/**
 * A plugin as the configuration holds it: what a definePlugin factory returns. The plugin
 * host (src/plugins) knows its full type, KronusPlugin, and the context its register gets;
 * the configuration only names what it needs, so it never imports the host.
 */
export interface PluginEntry {
  readonly name: string
  readonly version: string
  readonly options: unknown
  register(kronus: never, options: never): unknown
}

/**
 * The configuration a user writes. Key names under `kronus`, `google` and `twilio`
 * are those of the first Kronus's config.yml, so an existing file keeps working.
 */
export interface KronusConfigInput {
  kronus?: {
    /** RSA private key (PEM) that signs access tokens. Env: KRONUS_PRIVATE_KEY_PEM. */
    privateKeyPem?: string
    /** Public URL of this server; Twilio signs webhooks against it. */
    publicUrl?: string
    cron?: {
      /** IANA time zone used for probe schedules unless a user sets their own. Default UTC. */
      timeZone?: string
    }
    listener?: {
      /** Default 3900. Env: KRONUS_PORT. */
      port?: number
      /** Default 0.0.0.0. */
      host?: string
      /**
       * Reverse proxies in front of Kronus, as addresses or CIDRs ("127.0.0.1", "10.0.0.0/8").
       * A request from one of them is taken to come from the address it names in
       * X-Forwarded-For, read from the right through trusted hops only. Default none:
       * X-Forwarded-For is ignored.
       */
      trustProxy?: string[]
      /**
       * Percent of responses checked against their documented schema (a mismatch is logged
       * as an error). Default 100 in dev mode, 0 otherwise: the check costs a large share
       * of a request's CPU, and hapi advises sampling it in production.
       */
      responseValidationPercent?: number
    }
    sqlite?: {
      /** SQLCipher passphrase. Env: KRONUS_SQLITE_PASSPHRASE. */
      passPhrase?: string
    }
    /**
     * A URL Kronus GETs every `intervalSeconds` while it works (Healthchecks.io style), with
     * `/fail` appended while it is degraded; a monitor that stops hearing from it alerts you.
     * Off when unset.
     */
    heartbeat?: {
      /** e.g. https://hc-ping.com/<uuid>. Env: KRONUS_HEARTBEAT_URL. */
      url?: string
      /** Default 60: a whole number of minutes that divides an hour (60, 120, ... 1800, 3600), in seconds. */
      intervalSeconds?: number
    }
  }
  google?: {
    storage?: {
      bucket?: string
      /** Folder inside the bucket. Default "kronus". */
      prefix?: string
      /** Cron expression. Default every 15 minutes. */
      sqliteBackupSchedule?: string
      enableSqliteBackupAndSync?: boolean
    }
    /** Path to service-account credentials; default credentials when unset. */
    applicationCredentials?: string
  }
  twilio?: {
    accountSid?: string
    /** Env: TWILIO_AUTH_TOKEN. */
    authToken?: string
    messagingServiceSid?: string
    /**
     * The Twilio number (E.164) voice calls come from: a Messaging Service cannot place
     * calls. Without it, calls fail and alarms stay with texts. Env: TWILIO_CALLER_NUMBER.
     */
    callerNumber?: string
  }
  database?: {
    /** 'sqlcipher' (default, embedded, encrypted) or 'postgres'. */
    client?: 'sqlcipher' | 'postgres'
    /** SQLCipher file. Default ./kronus.db (./dev/kronus.db in dev mode). */
    filename?: string
    /** PostgreSQL connection string. Env: KRONUS_DATABASE_URL. */
    connection?: string
  }
  probes?: {
    /** On-demand probes a user may ask for per day. Default 10. */
    onDemandDailyLimit?: number
    /** A fire missed while the server was down is still sent when it is at most this old. Default 60. */
    missedFireGraceMinutes?: number
  }
  alarms?: {
    /**
     * How long an alert text that fails transiently (provider errors, timeouts) keeps being
     * retried, with backoff of at most a minute, before it is given up. Default 30.
     */
    alertRetryMinutes?: number
  }
  jobs?: {
    /** Jobs one process runs at the same time. Default 4. */
    concurrency?: number
    /** How often the worker looks for due jobs, in ms. Default 1000. On PostgreSQL with `listen`, see safetyPollIntervalMs. */
    pollIntervalMs?: number
    /**
     * PostgreSQL: workers are woken by LISTEN/NOTIFY when jobs are stored (by any
     * instance) instead of polling every pollIntervalMs. Default true. Ignored on SQLCipher.
     */
    listen?: boolean
    /** PostgreSQL with `listen`: how often workers look anyway, for what a notification cannot tell, in ms. Default 30000. */
    safetyPollIntervalMs?: number
    /**
     * The probe scheduler looks for due schedules on every whole minute, when they fall
     * due, and also this often if it is shorter, in ms. Default 60000.
     */
    schedulerIntervalMs?: number
    /** Successful jobs are deleted this long after they finished. Default 168 (7 days). */
    pruneSuccessfulAfterHours?: number
    /** At shutdown, how long running jobs may finish before they are put back in the queue, in ms. Default 10000. */
    shutdownTimeoutMs?: number
    /** How long a job may run before it fails and is retried, unless its type sets its own, in ms. Default 60000. */
    defaultTimeoutMs?: number
    /**
     * How long past its timeout a job stays claimed, in ms. A job whose process died is run by
     * another instance once timeout + margin have passed. Default 30000.
     */
    lockMarginMs?: number
  }
  limits?: {
    /** Emergency contacts one user may have (a 400 names the limit beyond). Default 10. */
    contactsPerUser?: number
    /**
     * The shortest time between two scheduled check-ins, in minutes: a cron that fires more
     * often anywhere in its cycle is refused (400). Stored schedules that break it keep
     * working and are logged at start-up. Default 60.
     */
    minCheckInIntervalMinutes?: number
    /** Texts one user may be sent in 24 hours, alarms' excluded; over it, command replies and invitations are not sent. Default 30. */
    textsPerUserPerDay?: number
    /** Texts the whole server may send in 24 hours, alarms' excluded; null (the default) for no limit. */
    textsPerServerPerDay?: number | null
  }
  auth?: {
    /**
     * Failed logins one client (an account from one address) may make before each further
     * attempt has to wait, 1 s after this many, then 2 s, 4 s, ... Default 5.
     */
    maxFailedLogins?: number
    /** Longest wait between attempts of a client that keeps failing, in minutes. Default 15. */
    maxLoginDelayMinutes?: number
    /** Failed logins one address may make, over all accounts, within the window. Default 100. */
    maxFailedLoginsPerAddress?: number
    /** Window of the per-address limit, in minutes. Default 15. */
    failedLoginWindowMinutes?: number
    /** Lifetime of an access token, in minutes. Default 60. */
    accessTokenTtlMinutes?: number
    /** Password or email changes one user may make per hour. Default 5. */
    maxPasswordChangesPerHour?: number
  }
  /**
   * GET /metrics (Prometheus). Off (404) unless a token or allowFrom is set; in dev mode,
   * with neither, it is open to loopback addresses only. With both set, a scrape needs both.
   */
  metrics?: {
    /** Bearer token scrapers send (`Authorization: Bearer <token>`), at least 16 characters. Env: KRONUS_METRICS_TOKEN. */
    token?: string
    /**
     * Addresses or CIDRs ("127.0.0.1", "10.0.0.0/8") allowed to scrape; others get a 404.
     * Behind a reverse proxy, list it in kronus.listener.trustProxy so the scraper's own address counts.
     */
    allowFrom?: string[]
  }
  logging?: {
    /** pino level. Default info. */
    level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    /** Human-readable logs. Default on in dev mode. */
    pretty?: boolean
  }
  /** Plugins, started in this order and stopped in reverse. */
  plugins?: PluginEntry[]
}

/** The configuration after validation and defaults: every field Kronus reads is present. */
export interface KronusConfig {
  dev: boolean
  /** Folder that holds the database and, in dev mode, generated secrets. */
  dataDir: string
  kronus: {
    privateKeyPem: string
    publicUrl: string
    cron: { timeZone: string }
    listener: { port: number; host: string; trustProxy: string[]; responseValidationPercent: number }
    sqlite: { passPhrase: string }
    heartbeat?: { url: string; intervalSeconds: number }
  }
  google: {
    storage: {
      bucket?: string
      prefix: string
      sqliteBackupSchedule: string
      enableSqliteBackupAndSync: boolean
    }
    applicationCredentials?: string
  }
  twilio: {
    accountSid?: string
    authToken?: string
    messagingServiceSid?: string
    callerNumber?: string
  }
  database: {
    client: 'sqlcipher' | 'postgres'
    filename: string
    connection?: string
  }
  probes: {
    onDemandDailyLimit: number
    missedFireGraceMinutes: number
  }
  alarms: {
    alertRetryMinutes: number
  }
  jobs: {
    concurrency: number
    pollIntervalMs: number
    listen: boolean
    safetyPollIntervalMs: number
    schedulerIntervalMs: number
    pruneSuccessfulAfterHours: number
    shutdownTimeoutMs: number
    defaultTimeoutMs: number
    lockMarginMs: number
  }
  limits: {
    contactsPerUser: number
    minCheckInIntervalMinutes: number
    textsPerUserPerDay: number
    textsPerServerPerDay: number | null
  }
  auth: {
    maxFailedLogins: number
    maxLoginDelayMinutes: number
    maxFailedLoginsPerAddress: number
    failedLoginWindowMinutes: number
    accessTokenTtlMinutes: number
    maxPasswordChangesPerHour: number
  }
  metrics: {
    token?: string
    allowFrom: string[]
  }
  logging: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    pretty: boolean
  }
  plugins: PluginEntry[]
}

/** Identity helper that gives kronus.config.ts full type checking and completion. */
export function defineConfig(config: KronusConfigInput): KronusConfigInput {
  return config
}
