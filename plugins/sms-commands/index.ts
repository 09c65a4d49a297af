/**
 * sms-commands: the texts a user can send Kronus besides Y and N: `ping`, `usage` (or
 * `help`), `probe [--in N] [--retries N] [--wait N]` and `<command> --help`, in any case.
 * A text that is no command passes on, to be taken as the answer to a check-in.
 * `help` while a check-in waits is distress, not this list: the alarm engine's inbound
 * handler sees every text before this one and raises the alarm.
 */

import type { Knex } from 'knex'
import { ConflictError, definePlugin, ForbiddenError, type PluginContext, RateLimitedError } from 'kronus'
import { commandHelp, parseCommand, usageText } from './commands.js'

function followUps(retries: number, waitMinutes: number): string {
  if (retries === 0) return 'with no follow-up'
  return `with up to ${retries} follow-up${retries === 1 ? '' : 's'} ${waitMinutes} minutes apart`
}

function inMinutes(minutes: number): string {
  return `in ${minutes} minute${minutes === 1 ? '' : 's'}`
}

/** A wait as a person says it: minutes up to an hour and a half, then whole hours (rounded up). */
function inTime(minutes: number): string {
  if (minutes <= 90) return inMinutes(minutes)
  return `in ${Math.ceil(minutes / 60)} hours`
}

async function requestProbe(
  kronus: PluginContext,
  userId: number,
  request: { inMinutes: number; retries: number; waitMinutes: number },
  trx: Knex.Transaction
): Promise<string> {
  let result: { startsAt: number; merged: boolean; checkInWaiting: boolean }
  try {
    // A savepoint: a refused request must leave no trace (its allowance included),
    // while the text's own record still commits.
    result = await trx.transaction((savepoint) => kronus.probes.requestOnDemand(userId, request, savepoint))
  } catch (err) {
    if (err instanceof ForbiddenError)
      return 'Kronus needs an emergency contact before it can check on you. Add one in Kronus first.'
    if (err instanceof ConflictError) return 'A check-in is already waiting for your answer: reply Y or N to it first.'
    // A spent text allowance throws this too, but then no reply goes out at all (replies here are refusable).
    if (err instanceof RateLimitedError) {
      const minutes = Math.ceil(err.retryAfterSec / 60)
      return `You have asked for ${kronus.config.probes.onDemandDailyLimit} check-ins in the last 24 hours, the most allowed. You can ask again ${inTime(minutes)}.`
    }
    throw err
  }
  const follow = followUps(request.retries, request.waitMinutes)
  if (result.merged) {
    const minutes = Math.max(1, Math.round((result.startsAt - kronus.clock.now()) / 60_000))
    return `You already asked for a check-in ${inMinutes(minutes)}; this request was added to it and not counted.`
  }
  if (request.inMinutes === 0) return `OK: Kronus will check on you now, ${follow}.`
  if (result.checkInWaiting) {
    return (
      `A check-in is already waiting for your answer: reply Y or N to it. If it still waits ${inMinutes(request.inMinutes)}, ` +
      `this request will be added to it and not counted; otherwise Kronus will check on you then, ${follow}.`
    )
  }
  return `OK: Kronus will check on you ${inMinutes(request.inMinutes)}, ${follow}.`
}

export const smsCommands = definePlugin({
  name: 'sms-commands',
  version: '1.0.0',

  register(kronus) {
    // Replies to commands wait for the user's text allowance (limits.textsPerUserPerDay):
    // over it, a command does nothing and is not answered.
    kronus.messaging.onInbound(
      async (message, trx) => {
        const command = parseCommand(message.text)
        if (!command) return null
        switch (command.kind) {
          case 'ping':
            return 'PONG!'
          case 'usage':
            return usageText()
          case 'help':
            return commandHelp(command.command)
          case 'error':
            return command.message
          case 'probe':
            return requestProbe(kronus, message.userId, command, trx)
        }
      },
      { replies: 'refusable' }
    )
  }
})
