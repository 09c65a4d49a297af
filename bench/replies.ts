import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import twilio from 'twilio'
import { twilioWebhookUrl } from '../plugins/twilio-sms/signature.js'
import { SMS_WEBHOOK_PATH } from '../plugins/twilio-sms/webhook.js'
import { usersLabel } from './fanout.js'
import { seedPendingProbes } from './follow-ups.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import { QueryProfile } from './lib/query-profile.js'
import { type ResultRow, row } from './lib/result.js'
import { dailyCronAt, seedUsers } from './lib/seed.js'

export interface RepliesParams {
  users: number
  /** Give up this long after the first post and report how far it got. */
  timeoutMs: number
  /** Requests in flight at once. Default 64. */
  posters?: number
}

/** Issue 17's target: 100k replies applied within 120 s of the first. */
export const REPLIES_TARGET_SECONDS = 120
/** The pace that target takes. */
const REPLIES_TARGET_PACE = 100_000 / REPLIES_TARGET_SECONDS

const ACCOUNT_SID = `AC${'1'.repeat(32)}`
const AUTH_TOKEN = 'bench-auth-token'
const SERVICE_SID = `MG${'a'.repeat(32)}`
const PUBLIC_URL = 'https://kronus.bench'

/** What the posting thread says when it is done. */
interface PostingReport {
  firstPostAt: number
  lastAcceptedAt: number
  accepted: number
  /** Answers other than 200, and requests that failed, each retried (as Twilio retries). */
  refused: number
  /** Requests given up after their retries: replies Twilio would have lost. */
  givenUp: number
}

/*
 * The posters run on a thread of their own (plain JavaScript, so it needs no loader): the
 * webhook is reached over real HTTP on the listening port, as Twilio reaches it, and
 * posting costs the Kronus thread nothing but the requests it serves.
 */
const POSTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { url, requests, posters } = workerData
let next = 0, accepted = 0, refused = 0, givenUp = 0, lastAcceptedAt = 0
const firstPostAt = Date.now()
async function poster() {
  for (;;) {
    const i = next++
    if (i >= requests.length) return
    const [body, signature] = requests[i]
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }
        })
        await res.text()
        if (res.status === 200) { accepted++; lastAcceptedAt = Date.now(); break }
        refused++
      } catch {
        refused++
      }
      if (attempt >= 5) { givenUp++; break }
    }
  }
}
Promise.all(Array.from({ length: posters }, poster)).then(() =>
  parentPort.postMessage({ firstPostAt, lastAcceptedAt, accepted, refused, givenUp })
)
`

/** The form Twilio posts for an inbound text, and its X-Twilio-Signature. */
function signedReply(from: string, sequence: number): [string, string] {
  const sid = `SM${sequence.toString(16).padStart(32, '0')}`
  const form = {
    ToCountry: 'US',
    SmsMessageSid: sid,
    NumMedia: '0',
    SmsSid: sid,
    SmsStatus: 'received',
    Body: 'Y',
    To: '+15550009999',
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: ACCOUNT_SID,
    MessagingServiceSid: SERVICE_SID,
    From: from,
    ApiVersion: '2010-04-01'
  }
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, twilioWebhookUrl(PUBLIC_URL, SMS_WEBHOOK_PATH), form)
  return [new URLSearchParams(form).toString(), signature]
}

/**
 * N users each with a check-in waiting, and each answering "Y" (issue 17, point 3): the
 * replies are posted to the inbound SMS webhook of the twilio-sms plugin, signed as
 * Twilio signs them, by a few posters as fast as it answers, over real HTTP. Kronus runs
 * as in production (kronus.start(), the built-in plugins with twilio-sms). The stopwatch
 * runs from the first post until the last probe is good; the webhook's accept rate is
 * the 200s over the time from the first post to the last 200.
 */
export async function repliesCase(spec: BenchDatabaseSpec, params: RepliesParams): Promise<ResultRow[]> {
  const { users } = params
  const posters = params.posters ?? 64
  const { kronus } = await buildBenchKronus(
    spec,
    { twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, messagingServiceSid: SERVICE_SID } },
    { builtins: true, publicUrl: PUBLIC_URL }
  )
  // No schedule fires during the case: its only work is the replies.
  const farAway = Math.ceil((Date.now() + 86_400_000) / 60_000) * 60_000
  await seedUsers(kronus.knex, { users, nextFireAt: farAway, cron: dailyCronAt(farAway) })
  await seedPendingProbes(kronus.knex, users)
  // Signed before the clock starts: signing is Twilio's work, not Kronus's.
  const requests = Array.from({ length: users }, (_, i) => signedReply(`+1555${String(i + 1).padStart(7, '0')}`, i + 1))

  const profileFile = process.env.KRONUS_BENCH_QUERY_PROFILE
  const queries = profileFile ? new QueryProfile().attach(kronus.knex) : null
  let applied = 0
  let allAppliedAt: number | null = null
  let reachedAll: () => void = () => {}
  const allApplied = new Promise<void>((resolve) => {
    reachedAll = resolve
  })
  kronus.events.on('probe.status_changed', (payload) => {
    if (payload.to !== 'good') return
    applied += 1
    if (applied === users) {
      allAppliedAt = Date.now()
      reachedAll()
    }
  })

  let report: PostingReport | null = null
  let timedOut = false
  let endAt: number
  let cpu: NodeJS.CpuUsage
  const firstPostAt = Date.now()
  try {
    await kronus.start()
    const cpuAtStart = process.cpuUsage()
    const worker = new Worker(POSTER_SOURCE, {
      eval: true,
      workerData: { url: `${kronus.server.info.uri}${SMS_WEBHOOK_PATH}`, requests, posters }
    })
    const posted = new Promise<PostingReport>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    const deadline = sleep(params.timeoutMs, 'timeout' as const)
    timedOut =
      (await Promise.race([Promise.all([allApplied, posted]).then(() => 'done' as const), deadline])) === 'timeout'
    endAt = timedOut ? Date.now() : allAppliedAt!
    cpu = process.cpuUsage(cpuAtStart)
    if (timedOut) await worker.terminate()
    else report = await posted
  } finally {
    queries?.write(`${profileFile}.replies.${spec.kind}.${users}.txt`)
  }
  await kronus.stop('benchmark finished')

  const start = report?.firstPostAt ?? firstPostAt
  const elapsed = (endAt - start) / 1000
  const seconds = timedOut ? (applied > 0 ? (elapsed * users) / applied : Infinity) : elapsed
  const acceptRate = report ? report.accepted / ((report.lastAcceptedAt - start) / 1000) : applied / elapsed
  const cpuShare = ((cpu!.user + cpu!.system) / 1000 / (endAt - start)) * 100
  const progress = timedOut ? `PROJECTED from the first ${elapsed.toFixed(0)} s: ${applied} of ${users} applied; ` : ''
  const posting = report
    ? `${report.accepted} accepted (${report.refused} refused and retried, ${report.givenUp} given up)`
    : 'posting stopped at the time-out'
  return [
    row({
      bench: 'fanout',
      subject: `${usersLabel(users)} replies "Y" to the SMS webhook: first post → last probe good${timedOut ? ' (projected)' : ''}`,
      db: spec.kind,
      value: seconds,
      unit: 's',
      limit: REPLIES_TARGET_SECONDS,
      limitLabel: `${REPLIES_TARGET_SECONDS} s target (100k)`,
      lowerIsBetter: true,
      detail: `${progress}${posters} posters over HTTP; ${posting}; Kronus process CPU ${cpuShare.toFixed(0)} % of a core (posters included)`
    }),
    row({
      bench: 'fanout',
      subject: `${usersLabel(users)} replies "Y" to the SMS webhook: accept rate`,
      db: spec.kind,
      value: acceptRate,
      unit: 'req/s',
      limit: REPLIES_TARGET_PACE,
      limitLabel: `${REPLIES_TARGET_PACE.toFixed(0)} req/s (100k in 120 s)`,
      lowerIsBetter: false,
      detail: `200s from the first post to the last 200; a 200 comes after the reply is applied and committed`
    })
  ]
}
