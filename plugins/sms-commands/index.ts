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

async function requestProbe(
  kronus: PluginContext,
  userId: number,
  request: { inMinutes: number; retries: number; waitMinutes: number },
  trx: Knex.Transaction
): Promise<string> {
  try {
    // A savepoint: a refused request must leave no trace (its daily allowance included),
    // while the text's own record still commits.
    await trx.transaction((savepoint) => kronus.probes.requestOnDemand(userId, request, savepoint))
  } catch (err) {
    if (err instanceof ForbiddenError)
      return 'Kronus needs an emergency contact before it can check on you. Add one in Kronus first.'
    if (err instanceof ConflictError) return 'A check-in is already waiting for your answer: reply Y or N to it first.'
    if (err instanceof RateLimitedError) {
      return `You have asked for ${kronus.config.probes.onDemandDailyLimit} check-ins today, the most allowed. Try again tomorrow.`
    }
    throw err
  }
  const when = request.inMinutes === 0 ? 'now' : `in ${request.inMinutes} minute${request.inMinutes === 1 ? '' : 's'}`
  return `OK: Kronus will check on you ${when}, ${followUps(request.retries, request.waitMinutes)}.`
}

export const smsCommands = definePlugin({
  name: 'sms-commands',
  version: '1.0.0',

  register(kronus) {
    kronus.messaging.onInbound(async (message, trx) => {
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
    })
  }
})
