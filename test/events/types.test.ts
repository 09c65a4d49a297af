import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const fixture = join(root, 'test', 'events', 'fixtures', 'typed-events.ts')
const DIRECTIVE = '// @ts-expect-error'

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json')
  const { config } = ts.readConfigFile(configPath, ts.sys.readFile)
  return ts.parseJsonConfigFileContent(config, ts.sys, root).options
}

/** The files the fixture imports (the libs, src, node_modules types) are parsed once for both checks. */
const parsed = new Map<string, ts.SourceFile | undefined>()

/** Type-checks the fixture, with its text replaced by `text`; returns the errors in the fixture. */
function errorsIn(text: string, options: ts.CompilerOptions): ts.Diagnostic[] {
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, language, onError, shouldCreate) => {
    if (fileName === fixture) return ts.createSourceFile(fileName, text, language)
    if (!parsed.has(fileName)) parsed.set(fileName, getSourceFile(fileName, language, onError, shouldCreate))
    return parsed.get(fileName)
  }
  const program = ts.createProgram([fixture], options, host)
  // Checking only the fixture (and what it uses) rather than every file it imports: errors elsewhere are not this test's.
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(fixture))
    .filter((d) => d.file?.fileName === fixture || d.file === undefined)
}

function lineOf(d: ts.Diagnostic): number {
  return d.file!.getLineAndCharacterOfPosition(d.start!).line
}

t.test('a misspelt event name or payload field is a compile error; plugin events merge in', async (t) => {
  const options = compilerOptions()
  const text = readFileSync(fixture, 'utf8')
  const lines = text.split('\n')
  const expectedErrorLines = lines.flatMap((line, i) => (line.trim().startsWith(DIRECTIVE) ? [i + 1] : []))
  t.ok(expectedErrorLines.length >= 8, 'the fixture holds the typo cases')

  const asWritten = errorsIn(text, options)
  t.same(
    asWritten.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    [],
    'the fixture compiles: every expected error occurs (an unused @ts-expect-error would be an error) and correct uses, plugin events included, type-check'
  )

  // Without the directives, each marked line, and only those, fails to compile.
  const stripped = lines.map((line) => (line.trim().startsWith(DIRECTIVE) ? '' : line)).join('\n')
  const errors = errorsIn(stripped, options)
  t.same(
    [...new Set(errors.map(lineOf))].sort((a, b) => a - b),
    expectedErrorLines
  )
})
