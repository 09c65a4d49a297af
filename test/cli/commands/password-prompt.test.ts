import { PassThrough } from 'node:stream'
import t from 'tap'
import { promptHidden } from '../../../src/cli/commands/user-create.js'

/* The password prompt of `kronus user create` on a terminal: nothing typed is shown. */

function fakeTerminal() {
  const rawModes: boolean[] = []
  const input = Object.assign(new PassThrough(), {
    rawModes,
    isTTY: true,
    setRawMode: (on: boolean) => {
      rawModes.push(on)
    }
  })
  let shown = ''
  const output = new PassThrough()
  output.setEncoding('utf8').on('data', (d: string) => (shown += d))
  return { input, output, shown: () => shown }
}

t.test('the password is read in raw mode and never echoed; backspace edits it', async (t) => {
  const terminal = fakeTerminal()
  const answer = promptHidden('Password: ', terminal.input as unknown as NodeJS.ReadStream, terminal.output)
  terminal.input.write('secreX')
  terminal.input.write('\u007ft-pw\r')
  t.equal(await answer, 'secret-pw')
  t.equal(terminal.shown(), 'Password: \n', 'only the prompt and the line break are shown')
  t.same(terminal.input.rawModes, [true, false], 'echo is off while typing and back on after')
})

t.test('Ctrl-C cancels and gives the terminal back', async (t) => {
  const terminal = fakeTerminal()
  const answer = promptHidden('Password: ', terminal.input as unknown as NodeJS.ReadStream, terminal.output)
  terminal.input.write('abc\u0003')
  await t.rejects(answer, /cancelled/)
  t.same(terminal.input.rawModes, [true, false])
})
