#!/usr/bin/env node
// Runs the build in dist/, made by `npm run build` (`npm install` and `npm ci` run it).
// No node flags, no heap cap: an idle server holds under 100 MiB RSS; a 100k-user fan-out
// peaked at 165-189 MiB without a cap on SQLCipher and 164-247 MiB on PostgreSQL: under its
// 200 MiB target on SQLCipher, on PostgreSQL in some runs, not in all (docs/BENCHMARKS.md).
// A kronus.config.ts is compiled by esbuild on load (src/config/load.ts), with no loader hook.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/src/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  console.error('kronus: this checkout is not built (no dist/): run `npm run build` (`npm install` runs it too)')
  process.exit(1)
}
const { main } = await import(entry.href)
// The composition root: the core's command line gets the built-in plugins from here, and
// so names none of them itself.
const { builtinPlugins, pluginCatalogue } = await import(new URL('../dist/plugins/index.js', import.meta.url).href)
await main(process.argv, { catalogue: pluginCatalogue, implied: builtinPlugins })
