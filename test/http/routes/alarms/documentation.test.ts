import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'

t.test('/swagger.json documents the alarm routes, escalation settings and the forced delete', async (t) => {
  const kronus = await buildKronus(t, { documentation: true })
  const res = await kronus.server.inject('/swagger.json')
  t.equal(res.statusCode, 200)
  const spec = JSON.parse(res.payload)
  for (const [method, path] of [
    ['get', '/v1/alarms'],
    ['get', '/v1/users/{uid}/alarms'],
    ['get', '/v1/users/{uid}/escalation'],
    ['put', '/v1/users/{uid}/escalation'],
    ['post', '/v1/users/{uid}/checkin_link'],
    ['delete', '/v1/users/{uid}/checkin_link'],
    ['get', '/c/{token}'],
    ['post', '/c/{token}']
  ] as const)
    t.ok(spec.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`)

  const alarm = spec.definitions.Alarm
  t.ok(alarm, 'the Alarm definition')
  for (const field of ['user', 'trigger', 'quote', 'code', 'status', 'escalation', 'contacts', 'timeline'])
    t.ok(alarm.properties[field], `Alarm.${field}`)
  const resolve = (node: any) => (node?.$ref ? spec.definitions[node.$ref.split('/').pop()] : node)
  t.same(resolve(spec.definitions.AlarmContact.properties.state).enum, [
    'waiting',
    'queued',
    'sent',
    'delivered',
    'undelivered',
    'acknowledged',
    'called'
  ])

  const put = spec.paths['/v1/users/{uid}/escalation'].put
  const body = put.parameters.find((p: any) => p.in === 'body')
  const fields = spec.definitions[body.schema.$ref.split('/').pop()].properties
  t.same(Object.keys(fields).sort(), ['duress_word', 'mode', 'repeats', 'step_minutes', 'voice_calls'])
  t.match(fields.duress_word, { minLength: 3, maxLength: 64, description: /Write-only/ })
  t.match(fields.step_minutes, { minimum: 1, maximum: 120 })
  t.match(fields.repeats, { minimum: 0, maximum: 5 })

  const remove = spec.paths['/v1/users/{uid}'].delete
  t.ok(
    remove.parameters.find((p: any) => p.in === 'query' && p.name === 'force'),
    'DELETE documents ?force'
  )
  t.match(remove.responses['409'].description, /alarm that is not resolved/)
  t.ok(spec.definitions.Probe.properties.alerted_contacts, 'probes document alerted_contacts')
})
