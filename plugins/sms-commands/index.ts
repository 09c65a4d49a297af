/**
 * sms-commands: the texts a user can send Kronus besides Y and N: `ping`, `usage` (or
 * `help`), `probe [--in N] [--retries N] [--wait N]`, `pause 3d` / `pause until
 * 2027-01-10`, `resume` (or `on`) and `<command> --help`, in any case.
 * A text that is no command passes on, to be taken as the answer to a check-in.
 * `help` while a check-in waits is distress, not this list: the alarm engine's inbound
 * handler sees every text before this one and raises the alarm.
 */

import type { Knex } from 'knex'
import {
  ConflictError,
  definePlugin,
  ForbiddenError,
  type PluginCheckInState,
  type PluginContext,
  RateLimitedError,
  ValidationError
} from 'kronus'
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

/** "Next check-in: today at 18:00.", or that none is coming: every reply says when the next one is. */
function nextCheckIn(state: PluginCheckInState): string {
  if (!state.active) return 'Your check-ins are off: text ON to turn them back on.'
  return state.nextCheckIn === null ? 'Your schedule has no check-in to send.' : `Next check-in: ${state.nextCheckIn}.`
}

async function pause(
  kronus: PluginContext,
  userId: number,
  request: { hours: number } | { date: { year: number; month: number; day: number } },
  trx: Knex.Transaction
): Promise<string> {
  if (!(await kronus.probes.isActive(userId, trx)))
    return 'Your check-ins are off, so there is nothing to pause. Text ON to turn them back on.'
  let state: PluginCheckInState
  try {
    state = await trx.transaction((savepoint) => kronus.probes.pause(userId, request, savepoint))
  } catch (err) {
    if (err instanceof ValidationError) {
      return 'date' in request
        ? `Kronus can pause until a date after today and at most a year ahead. Text "pause --help" for more.`
        : `Kronus could not pause: ${err.message}.`
    }
    throw err
  }
  return `Check-ins paused until ${state.pausedUntil}. ${nextCheckIn(state)} Text RESUME to end the pause sooner.`
}

async function resume(kronus: PluginContext, userId: number, trx: Knex.Transaction): Promise<string> {
  let result: Awaited<ReturnType<PluginContext['probes']['resume']>>
  try {
    result = await trx.transaction((savepoint) => kronus.probes.resume(userId, savepoint))
  } catch (err) {
    if (err instanceof ForbiddenError)
      return 'Your check-ins stay off: Kronus needs an emergency contact who has agreed (replied YES to the invitation Kronus texted them). Check your contacts in Kronus.'
    throw err
  }
  switch (result.outcome) {
    case 'opted_out':
      return 'You texted STOP, so your phone cannot get Kronus texts. Text START first, then ON. Your check-ins stay off.'
    case 'already_on':
      return `Your check-ins are already on. ${nextCheckIn(result)}`
    case 'resumed':
      return `Your pause is over: check-ins are on. ${nextCheckIn(result)}`
    case 'turned_on':
      return `Your check-ins are back on. ${nextCheckIn(result)}`
  }
}

export const smsCommands = definePlugin({
  name: 'sms-commands',
  version: '1.0.0',

  register(kronus) {
    // Pausing and turning check-ins back on are always answered: a user at their text
    // allowance must still be able to stop being checked on, or start again, and hear so.
    kronus.messaging.onInbound(async (message, trx) => {
      const command = parseCommand(message.text)
      if (command?.kind === 'pause') return pause(kronus, message.userId, command, trx)
      if (command?.kind === 'resume') return resume(kronus, message.userId, trx)
      return null
    })
    // Replies to the other commands wait for the user's text allowance
    // (limits.textsPerUserPerDay): over it, a command does nothing and is not answered.
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
          case 'pause':
          case 'resume':
            return null
        }
      },
      // Only a command reaches it: any other text costs no read of the allowance.
      { replies: 'refusable', claims: (text) => parseCommand(text) !== null }
    )
  }
})
