import type { Command } from 'commander'
import { bashScript } from './bash.js'
import { fishScript } from './fish.js'
import { completionModel } from './model.js'
import { zshScript } from './zsh.js'

export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

const GENERATORS = { bash: bashScript, zsh: zshScript, fish: fishScript } satisfies Record<Shell, unknown>

/** The completion script for `shell`, generated from the program's own definition. */
export function completionScript(shell: Shell, program: Command): string {
  return GENERATORS[shell](completionModel(program))
}
