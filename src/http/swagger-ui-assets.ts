import Module, { createRequire } from 'node:module'
import { dirname } from 'node:path'

/*
 * hapi-swagger needs one thing from swagger-ui-dist: the folder of its browser files, which
 * /documentation serves. But swagger-ui-dist's main module also evaluates its 2 MiB browser
 * bundles inside Node, where nothing uses them: about 40 MiB of RSS for nothing. Its entry in
 * the require cache is filled first, here, with just that folder (the files served are the
 * same). src/http/server.ts imports this module before hapi-swagger.
 */
const requireFromHapiSwagger = createRequire(createRequire(import.meta.url).resolve('hapi-swagger'))
const entry = requireFromHapiSwagger.resolve('swagger-ui-dist')
if (!requireFromHapiSwagger.cache[entry]) {
  const getAbsoluteFSPath = (): string => dirname(entry)
  const assetsOnly = new Module(entry)
  assetsOnly.filename = entry
  assetsOnly.loaded = true
  assetsOnly.exports = { getAbsoluteFSPath, absolutePath: getAbsoluteFSPath }
  requireFromHapiSwagger.cache[entry] = assetsOnly
}
