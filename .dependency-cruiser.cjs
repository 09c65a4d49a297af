// `npm run depcruise` (and `npm run check`, which CI runs): the layer table of
// docs/ARCHITECTURE.md ("Layers and what may import what"), one rule per layer saying what
// it never imports, plus no cycles. Type-only imports count: they couple layers as much.
// The leaf layer (the clock, src/util/, the version) may be imported by any layer of src/;
// plugins/ import Kronus only through 'kronus'. Where the table is silent: src/logger.ts is
// part of the wiring (only createKronus builds a logger), src/version.ts a leaf; the queue's
// schedulers compute cron times (scheduling maths), and the HTTP edge validates cron input
// and reads the configuration's types.

/** Each layer's files, as a path pattern relative to the repository. */
const LAYER = {
  leaf: '^src/(clock\\.ts$|version\\.ts$|util/)',
  domain: '^src/domain/',
  schedulingMaths: '^src/scheduling/cron\\.ts$',
  config: '^src/config/',
  storage: '^src/db/',
  queue: '^src/(queue/|scheduling/(?!cron\\.ts$))',
  eventsAndMessaging: '^src/(events|messaging)/',
  services: '^src/(services|probes|alarms)/',
  pluginHost: '^src/plugins/',
  http: '^src/http/',
  wiring: '^src/(app|logger)\\.ts$',
  cli: '^src/cli/',
  publicApi: '^src/index\\.ts$',
  plugins: '^plugins/',
  consoleClient: '^console/'
}

const KRONUS = '^(src|plugins)/'

/** A rule: files of `layer` import nothing of Kronus outside `mayImport` (their own layer, and in src/ the leaf, always allowed). */
function onlyImports(layer, mayImport, comment) {
  const allowed = [layer, ...(layer === 'plugins' ? [] : ['leaf']), ...mayImport].map((name) => LAYER[name])
  return {
    name: `${layer}-imports-only-${mayImport.length ? mayImport.join('-') : 'leaf'}`,
    comment,
    severity: 'error',
    from: { path: LAYER[layer] },
    to: { path: KRONUS, pathNot: allowed }
  }
}

const BELOW_SERVICES = ['domain', 'schedulingMaths', 'config', 'storage', 'queue', 'eventsAndMessaging']

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle ties its modules into one that cannot be understood, tested or loaded in parts.',
      severity: 'error',
      from: {},
      to: { circular: true }
    },
    onlyImports('leaf', [], 'The clock and time-zone arithmetic import nothing of Kronus.'),
    onlyImports('domain', [], 'Domain errors, ids and defaults import only the leaf.'),
    onlyImports('schedulingMaths', [], 'Cron arithmetic imports only the leaf.'),
    onlyImports('config', ['domain', 'schedulingMaths'], 'Configuration knows no plugin host, storage or service.'),
    onlyImports('storage', ['domain'], 'The database layer knows nothing above it.'),
    onlyImports('queue', ['storage', 'schedulingMaths'], 'The job queue and the schedulers sit on storage alone.'),
    onlyImports('eventsAndMessaging', ['queue', 'storage'], 'Events and messaging sit on the queue and storage.'),
    onlyImports(
      'services',
      BELOW_SERVICES,
      'Services use everything below them, nothing of the plugin host, HTTP or wiring.'
    ),
    onlyImports('pluginHost', ['services', ...BELOW_SERVICES], 'The plugin host uses services and below.'),
    onlyImports(
      'http',
      ['services', 'domain', 'config', 'schedulingMaths'],
      'Handlers validate and call one service: no storage, queue or events.'
    ),
    onlyImports(
      'wiring',
      [
        'domain',
        'schedulingMaths',
        'config',
        'storage',
        'queue',
        'eventsAndMessaging',
        'services',
        'pluginHost',
        'http'
      ],
      'createKronus builds from src/ alone and knows no plugin by name.'
    ),
    onlyImports(
      'cli',
      ['wiring', 'config', 'pluginHost'],
      'The command line starts the wiring and reads configuration; the plugin host gives plugins their commands.'
    ),
    {
      name: 'public-api-imports-no-plugin-cli-or-wiring',
      comment: 'src/index.ts exports what plugin authors may use; it names no built-in plugin.',
      severity: 'error',
      from: { path: LAYER.publicApi },
      to: { path: [LAYER.plugins, LAYER.cli] }
    },
    onlyImports(
      'plugins',
      ['publicApi'],
      "A plugin imports Kronus only through 'kronus' (src/index.ts), as a third-party plugin must."
    ),
    {
      name: 'console-client-imports-only-itself',
      comment: 'The web console runs in a browser and talks to Kronus over HTTP only: nothing of src/ or plugins/.',
      severity: 'error',
      from: { path: LAYER.consoleClient },
      to: { pathNot: LAYER.consoleClient }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|node_modules)/' },
    includeOnly: '^(src|plugins|console)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      // 'kronus' resolves to src/index.ts, as tsc and the tests see it (package.json "exports").
      conditionNames: ['kronus-source', 'import', 'types', 'node', 'default'],
      exportsFields: ['exports'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json']
    }
  }
}
