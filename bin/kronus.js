#!/usr/bin/env -S node --max-old-space-size=192
// The heap cap: Kronus's live data is small and bounded (work is done in batches of a few
// hundred), but V8 left to itself lets garbage pile up to hundreds of MiB before it
// collects, and a 100k-user fan-out then peaked at 353 MiB RSS; capped, at 210 MiB in the
// same time (docs/BENCHMARKS.md). `npm start`, `npm run dev` and the benchmarks pass the
// same flag. To give it more: node --max-old-space-size=512 bin/kronus.js server
// Kronus is written in TypeScript and runs without a build step: tsx compiles on load,
// which also lets a user's kronus.config.ts be imported as it is.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
// The composition root: the core's command line gets the built-in plugins from here, and
// so names none of them itself.
const { builtinPlugins, pluginCatalogue } = await import('../plugins/index.ts')
await main(process.argv, { catalogue: pluginCatalogue, implied: builtinPlugins })
