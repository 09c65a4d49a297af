import { Argument, type Command } from 'commander'
import { completionScript, SHELLS, type Shell } from '../completion/index.js'

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script for kronus')
    .addArgument(new Argument('<shell>', 'shell to complete in').choices(SHELLS))
    .addHelpText(
      'after',
      [
        '',
        'Load it in the current shell:',
        '  bash:  source <(kronus completion bash)',
        '  zsh:   source <(kronus completion zsh)',
        '  fish:  kronus completion fish | source'
      ].join('\n')
    )
    .action((shell: Shell) => {
      process.stdout.write(completionScript(shell, program))
    })
}
