import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { outboundWebhook } from '../../plugins/outbound-webhook/index.js'
import { buildKronus } from '../helpers/app.js'
import { parsePrometheus } from '../helpers/prometheus.js'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

interface Tap {
  teardown(fn: () => unknown): void
}

/** The name of every family GET /metrics serves, from a Kronus with the plugins `kronus server` always runs. */
async function servedFamilies(t: Tap): Promise<string[]> {
  const kronus = await buildKronus(t, { config: { plugins: [outboundWebhook()] } })
  return [...parsePrometheus(await kronus.services.metrics.render()).keys()].sort()
}

t.test("README's Metrics table lists every metric served, and no other", async (t) => {
  const served = await servedFamilies(t)
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('## Development'))
  const listed = [...section.matchAll(/^\| `(kronus_[a-z_]+)` \|/gm)].map((m) => m[1]).sort()
  t.same(listed, served)
})

t.test('the Grafana dashboard: importable JSON, the data source a variable, a panel for every metric', async (t) => {
  const dashboard = JSON.parse(readFileSync(join(REPO, 'docs', 'grafana', 'kronus.json'), 'utf8'))
  t.equal(dashboard.title, 'Kronus')
  const variable = dashboard.templating.list.find((v: any) => v.type === 'datasource')
  t.match(variable, { name: 'datasource', query: 'prometheus' })
  const panels = dashboard.panels.filter((p: any) => p.type !== 'row')
  t.ok(panels.length > 0)
  const ids = new Set<number>()
  for (const panel of panels) {
    t.same(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `${panel.title}: the variable's data source`)
    t.ok(panel.targets.length > 0 && panel.gridPos, `${panel.title}: queries and a place`)
    for (const target of panel.targets) t.same(target.datasource, panel.datasource)
    t.notOk(ids.has(panel.id), `${panel.title}: a panel id of its own`)
    ids.add(panel.id)
  }
  const exprs = panels.flatMap((p: any) => p.targets.map((target: any) => target.expr as string)).join('\n')
  for (const family of await servedFamilies(t)) {
    t.match(exprs, new RegExp(`\\b${family}(_bucket|_count|_sum)?\\b`), `${family} has a panel`)
  }
})
