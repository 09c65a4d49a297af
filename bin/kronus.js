#!/usr/bin/env node
// Kronus is written in TypeScript and runs without a build step: tsx compiles on load,
// which also lets a user's kronus.config.ts be imported as it is.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
await main(process.argv)
