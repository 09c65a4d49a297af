import type { Command } from 'commander'
import type { PluginCommandContext } from 'kronus'

interface SmsFlags {
  from: string
  url?: string
  config?: string
}

/*
 * `kronus sms --from <phone> "<text>"`: texts a running server as Twilio would. What it
 * does is in sms-cli.ts, loaded when it runs, so other commands never load the twilio SDK.
 */
export function registerSmsCommand(program: Command, cli: PluginCommandContext): void {
  program
    .command('sms')
    .description('text a running server as if from a phone, through its signed Twilio webhook, and print the reply')
    .argument('<text>', 'what the phone texts, e.g. "Y" or "probe --in 0"')
    .requiredOption('--from <phone>', 'the phone number the text comes from (E.164, e.g. +12345678900)')
    .option('--url <url>', 'where the server listens (default: http://127.0.0.1:<kronus.listener.port or KRONUS_PORT>)')
    .option('--config <file>', 'configuration file (default: kronus.config.ts in the current folder)')
    .addHelpText(
      'after',
      [
        '',
        'The text is signed like a Twilio webhook: with twilio.authToken and kronus.publicUrl of the',
        'configuration, or, when none is configured, with the token a dev server started in this',
        'folder keeps in ./dev. Outside dev mode a server accepts only its Twilio auth token.'
      ].join('\n')
    )
    .action(async (text: string, flags: SmsFlags) => {
      const { sendSms } = await import('./sms-cli.js')
      await sendSms(cli, { text, from: flags.from, url: flags.url, configFile: flags.config })
    })
}
