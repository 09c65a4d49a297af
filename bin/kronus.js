#!/usr/bin/env -S node --max-old-space-size=192
// The heap cap: Kronus's live data is small and bounded (work is done in batches of a few
// hundred), but V8 left to itself lets garbage pile up to hundreds of MiB before it
// collects, and a 100k-user fan-out then peaked at 353 MiB RSS; capped, at 210 MiB in the
// same time (docs/BENCHMARKS.md). `npm start`, `npm run dev` and the benchmarks pass the
// same flag. To give it more: node --max-old-space-size=512 bin/kronus.js server
// Runs the build in dist/, made by `npm run build` (`npm install` and `npm ci` run it).
// TypeScript is compiled on load only for a kronus.config.ts (src/config/load.ts).
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
