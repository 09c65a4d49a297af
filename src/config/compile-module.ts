import { readFile, writeFile } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import { dirname, extname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BuildFailure, Loader, Message, Plugin } from 'esbuild'

/** Where Kronus's own modules are, so that a compiled module imports them instead of a copy. */
export interface KronusModules {
  /** The package's folder (holding package.json, src/, plugins/ and dist/). */
  root: string
  /**
   * Imports of Kronus's TypeScript sources (src/, plugins/) go to the build in dist/. False
   * when Kronus itself runs from its sources (a TypeScript loader is registered, as in the
   * tests): they are then imported as they are.
   */
  fromBuild: boolean
}

/** A module that could not be compiled: one problem per line, each naming the file and line. */
export class ModuleCompileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
    this.name = 'ModuleCompileError'
  }
}

const COMPILED = /\.[cm]?[jt]sx?$/
const RESOLVING = Symbol('resolving')

function loaderFor(file: string): Loader {
  const ext = extname(file)
  if (ext === '.tsx') return 'tsx'
  if (ext === '.jsx') return 'jsx'
  return ext.endsWith('ts') ? 'ts' : 'js'
}

/**
 * Each compiled file keeps its own location: import.meta.url, import.meta.dirname/filename,
 * __dirname and __filename name the source file, not the bundle (set by `define` below).
 * Put on the file's first line, so line numbers stay as they are.
 */
function fileLocals(file: string): string {
  const json = JSON.stringify
  return `const __kronus_file=${json(file)},__kronus_dir=${json(dirname(file))},__kronus_url=${json(pathToFileURL(file).href)};`
}

const FILE_LOCALS_DEFINE = {
  __filename: '__kronus_file',
  __dirname: '__kronus_dir',
  'import.meta.url': '__kronus_url',
  'import.meta.filename': '__kronus_file',
  'import.meta.dirname': '__kronus_dir'
}

/** Kronus's own module at `file`, as the running Kronus has it, or undefined for a file of the user's. */
function kronusModule(file: string, kronus: KronusModules): string | undefined {
  const inside = relative(kronus.root, file)
  if (inside.startsWith('..') || inside.includes(`node_modules${sep}`)) return undefined
  const [top] = inside.split(sep)
  if (top === 'dist') return file
  if (top !== 'src' && top !== 'plugins') return undefined
  if (!kronus.fromBuild) return file
  return join(kronus.root, 'dist', inside.replace(/\.[cm]?tsx?$/, '.js'))
}

function kronusEntry(specifier: string, kronus: KronusModules): string {
  if (specifier === 'kronus/package.json') return join(kronus.root, 'package.json')
  return kronus.fromBuild ? join(kronus.root, 'dist', 'src', 'index.js') : join(kronus.root, 'src', 'index.ts')
}

/**
 * Compiles the user's files the module imports, TypeScript or not, into one ESM file; what
 * Node loads by itself stays an import, by absolute URL (so the output may live anywhere):
 * packages in node_modules, Node's built-ins, and Kronus itself ('kronus' and its own files),
 * which are then the very modules the server runs, so `instanceof` and module state work
 * across them.
 */
function importsPlugin(kronus: KronusModules): Plugin {
  return {
    name: 'kronus-imports',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData === RESOLVING) return undefined
        // A require() is given a path, an import a URL.
        const external = (file: string) => ({
          path: args.kind === 'require-call' ? file : pathToFileURL(file).href,
          external: true
        })
        let specifier = args.path
        if (specifier.startsWith('node:') || isBuiltin(specifier)) return { path: specifier, external: true }
        if (specifier === 'kronus' || specifier === 'kronus/package.json')
          return external(kronusEntry(specifier, kronus))
        if (specifier.startsWith('file:')) specifier = fileURLToPath(specifier)
        const found = await build.resolve(specifier, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: RESOLVING
        })
        if (found.errors.length > 0) return { errors: found.errors }
        if (found.external || found.namespace !== 'file') return found
        const own = kronusModule(found.path, kronus)
        if (own) return external(own)
        if (found.path.split(sep).includes('node_modules')) return external(found.path)
        return { path: found.path }
      })
      build.onLoad({ filter: COMPILED }, async (args) => {
        const source = await readFile(args.path, 'utf8')
        // A #! line must come first; as a comment it keeps the line count.
        return { contents: fileLocals(args.path) + source.replace(/^#!/, '//'), loader: loaderFor(args.path) }
      })
    }
  }
}

/** One line an editor can jump to: file:line:column (both from 1), then what is wrong. */
function problemLine(message: Message, workingDir: string): string {
  const at = message.location
  // esbuild's file names are relative to absWorkingDir, its columns count from 0.
  return at ? `${resolve(workingDir, at.file)}:${at.line}:${at.column + 1}: ${message.text}` : message.text
}

/**
 * Compiles `entry` (TypeScript or JavaScript, ESM or CommonJS) and the files of the user's it
 * imports into one ESM module at `outFile`, with an inline source map, so stack traces name
 * the original files and lines once source maps are on (`process.setSourceMapsEnabled`).
 * esbuild runs in a child process of its own, stopped once done: nothing stays loaded in this
 * process but esbuild's small client, and no loader hook or thread is registered.
 */
export async function compileModule(entry: string, outFile: string, kronus: KronusModules): Promise<void> {
  const esbuild = await import('esbuild')
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      outfile: outFile,
      absWorkingDir: dirname(entry),
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      // Resolve packages as Node does: no "module" condition, no "module" field.
      conditions: [],
      mainFields: ['main'],
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      define: FILE_LOCALS_DEFINE,
      // require() of a package or built-in in a CommonJS file: Node's, given the absolute
      // paths above. (esbuild renames a module's own top-level `require` around it.)
      banner: {
        js: `import { createRequire as __kronus_createRequire } from 'node:module';const require=__kronus_createRequire(${JSON.stringify(pathToFileURL(entry).href)});`
      },
      plugins: [importsPlugin(kronus)]
    })
    await writeFile(outFile, result.outputFiles[0]!.contents)
  } catch (err) {
    const failure = err as Partial<BuildFailure>
    if (Array.isArray(failure.errors) && failure.errors.length > 0)
      throw new ModuleCompileError(failure.errors.map((message) => problemLine(message, dirname(entry))))
    throw err
  } finally {
    await esbuild.stop()
  }
}
