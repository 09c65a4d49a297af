import { alarmDetails } from './alarms.js'
import { ApiError, api, apiPage } from './api.js'
import { announce, field, h, section, show } from './dom.js'
import { fullName, when } from './format.js'
import { onSubmit } from './forms.js'
import { STATE_LABEL, stateBadge } from './status.js'

/*
 * What an admin watches: every user's status, open alarms (and closing one), dead jobs and
 * the queue's counts, limits reached, and webhook deliveries that failed.
 */

export async function adminView(root: HTMLElement): Promise<void> {
  show(
    root,
    h('h1', {}, 'Admin'),
    statusesSection(),
    openAlarmsSection(),
    h('div', { class: 'columns' }, jobsSection(), limitsSection()),
    webhookFailuresSection()
  )
}

/** Draws into `el` what `load` finds, or the reason it could not (a missing route says so). */
function loading(el: HTMLElement, load: () => Promise<void>): void {
  show(el, h('p', { class: 'hint' }, 'Loading…'))
  load().catch((err) => {
    const message =
      err instanceof ApiError && err.status === 404
        ? 'Not on this server: the plugin that provides it is not loaded.'
        : String(err.message ?? err)
    show(el, h('p', { role: 'alert' }, message))
  })
}

function table(headers: string[], rows: Node[][]): HTMLTableElement {
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', { scope: 'col' }, t))
      )
    ),
    h(
      'tbody',
      {},
      rows.map((cells) =>
        h(
          'tr',
          {},
          cells.map((c) => h('td', {}, c))
        )
      )
    )
  )
}

const text = (s: unknown) => document.createTextNode(s === null || s === undefined || s === '' ? '—' : String(s))

function statusesSection(): HTMLElement {
  const body = h('div', { id: 'statuses' })
  const filter = h(
    'select',
    { name: 'state' },
    h('option', { value: '' }, 'Every state'),
    Object.entries(STATE_LABEL).map(([value, label]) => h('option', { value }, label))
  )
  const draw = () =>
    loading(body, async () => {
      const query = filter.value ? `?state=${filter.value}` : ''
      const page = await apiPage(`/v1/statuses${query}`)
      show(
        body,
        page.data.length
          ? table(
              ['User', 'Phone', 'State', 'Next check-in', 'Last check-in'],
              page.data.map((s: any) => [
                text(fullName(s.user)),
                text(s.user.phone_number),
                stateBadge(s.state),
                text(when(s.next_checkin_at)),
                text(s.last_checkin ? `${when(s.last_checkin.at)}: ${s.last_checkin.status}` : null)
              ])
            )
          : h('p', {}, 'Nobody in this state.'),
        page.paging.pages > 1
          ? h('p', { class: 'hint' }, `Page 1 of ${page.paging.pages} (${page.paging.total} users).`)
          : null
      )
    })
  filter.addEventListener('change', draw)
  draw()
  return section('Every user', field('Show', filter), body)
}

function openAlarmsSection(): HTMLElement {
  const body = h('div', { id: 'open-alarms' })
  const draw = () =>
    loading(body, async () => {
      const [open, acknowledged] = await Promise.all([
        apiPage('/v1/alarms?status=open'),
        apiPage('/v1/alarms?status=acknowledged')
      ])
      const alarms = [...open.data, ...acknowledged.data]
      show(
        body,
        alarms.length ? alarms.map((a) => alarmDetails(a, undefined, resolveForm(a))) : h('p', {}, 'No alarm is open.')
      )
    })
  const resolveForm = (alarm: any): HTMLFormElement => {
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      field(
        'Note to the contacts and the user',
        h('input', { type: 'text', name: 'note', autocomplete: 'off' }),
        'Why the alarm is closed, in their words. They are texted it.'
      ),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, `Close alarm ${alarm.code}`))
    )
    onSubmit(form, async (data) => {
      await api('POST', `/v1/alarms/${alarm.id}/resolve`, { note: String(data.get('note') ?? '') })
      draw()
      return `Alarm ${alarm.code} closed.`
    })
    return form
  }
  draw()
  return section(
    'Open alarms',
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            draw()
            announce('Open alarms refreshed.')
          }
        },
        'Refresh'
      )
    ),
    body
  )
}

function jobsSection(): HTMLElement {
  const body = h('div', {})
  loading(body, async () => {
    const [stats, due, dead] = await Promise.all([
      api('GET', '/v1/jobs/stats'),
      api('GET', '/v1/jobs/due'),
      apiPage('/v1/jobs?status=dead')
    ])
    const late = due.filter((lane: any) => lane.late)
    show(
      body,
      h(
        'dl',
        { class: 'facts' },
        // enueued_job_count repeats enqueued_job_count for the first Kronus's clients.
        Object.entries(stats).flatMap(([k, v]) =>
          typeof v === 'object' || k === 'enueued_job_count'
            ? []
            : [h('dt', {}, k.replaceAll('_', ' ')), h('dd', {}, String(v))]
        )
      ),
      h('h3', {}, late.length ? `Late work (${late.length} lanes 2 minutes or more behind)` : 'Due now'),
      due.length
        ? table(
            ['Lane', 'Due', 'Oldest waiting', 'Late'],
            due.map((lane: any) => [
              text(lane.lane),
              text(lane.due),
              text(`${lane.oldest_due_age_seconds} s`),
              text(lane.late ? 'yes' : 'no')
            ])
          )
        : h('p', {}, 'Nothing waiting: every due job has been taken.'),
      h('h3', {}, `Dead jobs (${dead.paging.total})`),
      dead.data.length
        ? table(
            ['Job', 'User', 'Attempts', 'Last error', 'Updated'],
            dead.data.map((j: any) => [
              text(`${j.name} #${j.id}`),
              text(j.user_id),
              text(`${j.attempts}/${j.max_attempts}`),
              text(j.last_error),
              text(when(j.updated_at))
            ])
          )
        : h('p', {}, 'No dead job.')
    )
  })
  return section('Jobs', body)
}

function limitsSection(): HTMLElement {
  const body = h('div', {})
  loading(body, async () => {
    const page = await apiPage('/v1/limits/reached')
    show(
      body,
      page.data.length
        ? table(
            ['When', 'Limit', 'User', 'Max', 'Refused'],
            page.data.map((l: any) => [
              text(when(l.created_at)),
              text(l.limit),
              text(l.user_id ?? 'the server'),
              text(l.max),
              text(l.refused ? 'yes' : 'no')
            ])
          )
        : h('p', {}, 'No limit reached.')
    )
  })
  return section('Limits reached', body)
}

function webhookFailuresSection(): HTMLElement {
  const body = h('div', {})
  loading(body, async () => {
    const page = await apiPage('/plugins/outbound-webhook/deliveries?status=failed')
    show(
      body,
      page.data.length
        ? table(
            ['Event', 'Endpoint', 'User', 'Status', 'Attempts', 'Last error', 'Last attempt'],
            page.data.map((d: any) => [
              text(d.event),
              text(d.endpoint_id),
              text(d.user_id),
              text(d.status),
              text(d.attempts),
              text(d.last_error),
              text(when(d.last_attempt_at))
            ])
          )
        : h('p', {}, 'No failed delivery.')
    )
  })
  return section('Webhook deliveries that failed', body)
}
