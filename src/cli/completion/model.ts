import type { Command, Option } from 'commander'

/** What an option's value completes to. */
export type ValueCompletion = { kind: 'file' } | { kind: 'choice'; choices: string[] } | { kind: 'any' }

export interface OptionSpec {
  /** e.g. ['-v', '--version'] */
  names: string[]
  description: string
  /** Undefined for a flag that takes no value. */
  value?: ValueCompletion
  /** Help and version end the command line: nothing else is offered with them. */
  exclusive: boolean
}

export interface ArgumentSpec {
  name: string
  choices?: string[]
}

export interface CommandSpec {
  names: string[]
  description: string
  options: OptionSpec[]
  args: ArgumentSpec[]
}

export interface CompletionModel {
  name: string
  options: OptionSpec[]
  commands: CommandSpec[]
}

// Words are pasted into shell scripts; anything else would need quoting rules per shell.
const SAFE_WORD = /^[A-Za-z0-9][A-Za-z0-9_.:+-]*$|^--?[A-Za-z0-9][A-Za-z0-9_-]*$/

function safe(word: string): string {
  if (!SAFE_WORD.test(word))
    throw new Error(`cannot complete "${word}": command, option and choice names must be plain words`)
  return word
}

function valueCompletion(option: Option): ValueCompletion | undefined {
  if (!option.required && !option.optional) return undefined
  if (option.argChoices) return { kind: 'choice', choices: option.argChoices.map(safe) }
  // The value's placeholder in the flags (`--config <file>`) says whether it is a path.
  return /<[^>]*(file|path|dir)[^>]*>|\[[^\]]*(file|path|dir)[^\]]*\]/i.test(option.flags)
    ? { kind: 'file' }
    : { kind: 'any' }
}

function optionSpec(option: Option, exclusive: readonly string[]): OptionSpec {
  const names = [option.short, option.long].filter((n): n is string => !!n).map(safe)
  return {
    names,
    description: option.description,
    value: valueCompletion(option),
    exclusive: names.some((n) => exclusive.includes(n))
  }
}

/**
 * Reads the commands and options from the commander program itself (through commander's
 * help, which also lists the implicit `help` command), so completions cannot drift from
 * what the program accepts. Commands are one level deep, as in `kronus <command> [options]`.
 */
export function completionModel(program: Command): CompletionModel {
  const help = program.createHelp()
  const exclusive = help.visibleOptions(program).flatMap((o) => [o.short, o.long].filter((n): n is string => !!n))
  const commands = help.visibleCommands(program)
  const commandNames = commands.map((c) => safe(c.name()))
  return {
    name: safe(program.name()),
    options: help.visibleOptions(program).map((o) => optionSpec(o, exclusive)),
    commands: commands.map((cmd) => ({
      names: [cmd.name(), ...cmd.aliases()].map(safe),
      description: cmd.summary() || cmd.description(),
      options: help.visibleOptions(cmd).map((o) => optionSpec(o, ['-h', '--help'])),
      args: cmd.registeredArguments.map((arg) => ({
        name: arg.name(),
        // `help <command>` completes to the command names.
        choices: arg.argChoices?.map(safe) ?? (cmd.name() === 'help' ? commandNames : undefined)
      }))
    }))
  }
}
