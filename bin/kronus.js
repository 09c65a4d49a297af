#!/usr/bin/env node
// Runs the build in dist/, made by `npm run build` (`npm install` and `npm ci` run it).
// No node flags, no heap cap: an idle server holds under 100 MiB RSS, and a 100k-user
// fan-out peaks at about 160 MiB, as `kronus server` has V8 collect once its heap has grown
// by half (src/cli/heap-growth.ts; docs/BENCHMARKS.md).
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
