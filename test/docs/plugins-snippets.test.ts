import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The first ```ts block after `heading` in docs/PLUGINS.md. */
function snippetUnder(heading: string): string {
  const doc = readFileSync(join(REPO, 'docs', 'PLUGINS.md'), 'utf8')
  const section = doc.slice(doc.indexOf(heading))
  const match = /```ts\n([\s\S]*?)```/.exec(section)
  if (!section || !match) throw new Error(`no ts block under ${heading}`)
  return match[1]!
}

t.test("PLUGINS.md's jobs snippet compiles against the plugin API, runAt included", async (t) => {
  // The snippet's statements run inside a plugin's register, which is given `kronus`; the
  // file lives (in memory only) in the repository so 'kronus' resolves as for a plugin.
  const file = join(REPO, 'test', 'docs', 'jobs-snippet.ts')
  const source = `declare const kronus: import('kronus').PluginContext\n${snippetUnder('### Jobs and cron schedules')}\nexport {}\n`
  const { config } = ts.readConfigFile(join(REPO, 'tsconfig.json'), ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, REPO)
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (name) => name === file || fileExists(name)
  const program = ts.createProgram([file], options, host)
  const problems = ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  t.same(problems, [], 'no type error')
})
