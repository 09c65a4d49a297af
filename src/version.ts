import { createRequire } from 'node:module'

// Through the package's own name, so it is found from src/ (tests) and from dist/src/ (the build) alike.
export const VERSION: string = createRequire(import.meta.url)('kronus/package.json').version
