import { alarmDetails } from './alarms.js'
import { ApiError, api, apiIfPresent, apiPage } from './api.js'
import { announce, field, h, section, show } from './dom.js'
import { fullName, when } from './format.js'
import { clearErrors, onSubmit, showError, textOf } from './forms.js'
import { loadStatus, nextCheckIn, stateBadge, statusSentence } from './status.js'

/*
 * A person's own page: their status and next check-in, schedule (with the plain-words
 * preview), quiet hours, pause, contacts, escalation, check-in link and history. Each
 * section loads and redraws itself; a change that moves the status redraws the status too.
 */

interface Ctx {
  uid: number
  user: any
  refreshStatus: () => Promise<void>
  /** Set by the history section: reloads it. */
  refreshHistory?: () => Promise<void>
}

export async function personView(root: HTMLElement, uid: number): Promise<void> {
  const user = await api('GET', `/v1/users/${uid}`)
  const statusBody = h('div', { class: 'status-body' })
  const ctx: Ctx = {
    uid,
    user,
    refreshStatus: async () => {
      ctx.user = await api('GET', `/v1/users/${uid}`)
      await drawStatus(statusBody, ctx)
    }
  }
  show(
    root,
    h('h1', {}, `Hello, ${user.first_name}`),
    section(
      'Status',
      statusBody,
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: async () => {
              await Promise.all([ctx.refreshStatus(), ctx.refreshHistory?.()])
              announce('Status and history refreshed.')
            }
          },
          'Refresh status and history'
        )
      )
    ),
    h(
      'div',
      { class: 'columns' },
      h('div', {}, scheduleSection(ctx), quietHoursSection(ctx), pauseSection(ctx)),
      h('div', {}, contactsSection(ctx), escalationSection(ctx), checkinLinkSection(ctx))
    ),
    historySection(ctx)
  )
  await drawStatus(statusBody, ctx)
}

async function drawStatus(el: HTMLElement, ctx: Ctx): Promise<void> {
  const settings = ctx.user.probe_settings ?? {}
  const zone = settings.time_zone
  const status = await loadStatus(ctx.uid)
  if (!status) {
    show(
      el,
      h('p', {}, 'This server does not report a status yet.'),
      h('p', {}, h('strong', {}, 'Next check-in: '), nextCheckIn(settings.active ? settings.next_fire_at : null, zone))
    )
    return
  }
  show(
    el,
    h('p', { class: 'status-line', id: 'status-state' }, stateBadge(status.state), ' ', statusSentence(status, zone)),
    status.open_alarm
      ? h('p', {}, `Alarm code ${status.open_alarm.code}: a contact who answers with it acknowledges the alarm.`)
      : null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Next check-in'),
      h('dd', { id: 'next-checkin' }, nextCheckIn(status.next_checkin_at, zone)),
      h('dt', {}, 'Last check-in'),
      h('dd', {}, status.last_checkin ? `${when(status.last_checkin.at, zone)}: ${status.last_checkin.status}` : '—'),
      status.waiting_checkin
        ? [
            h('dt', {}, 'Follow-ups sent'),
            h('dd', {}, String(status.waiting_checkin.follow_ups_sent)),
            h('dt', {}, 'Next follow-up'),
            h('dd', {}, when(status.waiting_checkin.next_follow_up_at, zone))
          ]
        : null
    )
  )
}

function input(
  name: string,
  attrs: Record<string, string | boolean | number | null | undefined> = {}
): HTMLInputElement {
  return h('input', { name, type: 'text', ...attrs })
}

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone

/** The schedule: cron, zone, follow-ups; the preview says in words when it fires, and the next five times. */
function scheduleSection(ctx: Ctx): HTMLElement {
  const s = ctx.user.probe_settings ?? {}
  const zones = (Intl as any).supportedValuesOf?.('timeZone') as string[] | undefined
  const zoneList = h(
    'datalist',
    { id: 'zones' },
    (zones ?? []).map((z) => h('option', { value: z }))
  )
  const cron = input('cron_expression', {
    value: s.cron_expression ?? '0 9 * * *',
    autocomplete: 'off',
    spellcheck: 'false'
  })
  const zone = input('time_zone', { value: s.time_zone ?? browserZone, list: 'zones', autocomplete: 'off' })
  const preview = h('div', { class: 'preview', id: 'schedule-preview', 'aria-live': 'polite' })
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    field(
      'Check-ins on',
      h('input', { type: 'checkbox', name: 'active', checked: Boolean(s.active) }),
      'Needs at least one emergency contact.'
    ),
    field(
      'Schedule (cron)',
      cron,
      'Five fields: minute hour day-of-month month day-of-week, e.g. "0 9 * * *" is 09:00 every day.'
    ),
    field('Time zone', zone),
    zoneList,
    preview,
    field(
      'Follow-ups when you do not answer',
      input('max_retries', { type: 'number', min: 0, max: 6, value: s.max_retries ?? 2 })
    ),
    field(
      'Minutes between follow-ups',
      input('wait_time_in_minutes', { type: 'number', min: 5, max: 120, value: s.wait_time_in_minutes ?? 10 })
    ),
    field(
      'Check-in link window (minutes)',
      input('checkin_window_minutes', { type: 'number', min: 0, value: s.checkin_window_minutes ?? 0 }),
      'Pressing your check-in link this long before a scheduled check-in answers it. 0 = off.'
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save schedule'))
  )
  let timer: number | undefined
  let asked = 0
  const refreshPreview = async () => {
    const mine = ++asked
    const query = new URLSearchParams({ cron_expression: cron.value.trim(), time_zone: zone.value.trim() })
    try {
      const p = await apiIfPresent(`/v1/schedule/preview?${query}`)
      if (mine !== asked) return
      if (!p) return show(preview)
      show(
        preview,
        h('p', { class: 'preview-words' }, p.description),
        h('p', { class: 'hint' }, `Next five, in ${p.time_zone}:`),
        h(
          'ol',
          { class: 'next-times' },
          p.next.map((t: string) => h('li', {}, h('time', { datetime: t }, when(t, p.time_zone))))
        )
      )
    } catch (err) {
      if (mine === asked)
        show(preview, h('p', { class: 'preview-error' }, err instanceof Error ? err.message : String(err)))
    }
  }
  const schedulePreview = () => {
    clearTimeout(timer)
    timer = window.setTimeout(refreshPreview, 300)
  }
  cron.addEventListener('input', schedulePreview)
  zone.addEventListener('change', schedulePreview)
  zone.addEventListener('input', schedulePreview)
  void refreshPreview()
  onSubmit(form, async (data) => {
    await api('PUT', `/v1/users/${ctx.uid}/probe_settings`, {
      active: data.get('active') === 'on',
      cron_expression: textOf(data, 'cron_expression') ?? '',
      time_zone: textOf(data, 'time_zone') ?? null,
      max_retries: Number(data.get('max_retries')),
      wait_time_in_minutes: Number(data.get('wait_time_in_minutes')),
      checkin_window_minutes: Number(data.get('checkin_window_minutes'))
    })
    await ctx.refreshStatus()
    return 'Schedule saved.'
  })
  return section('Schedule', form)
}

function quietHoursSection(ctx: Ctx): HTMLElement {
  const q = ctx.user.probe_settings?.quiet_hours
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h(
      'p',
      { class: 'hint' },
      'No check-in or follow-up is sent between these times (your time zone); a check-in due then is sent when they end.'
    ),
    h(
      'div',
      { class: 'row' },
      field('From', input('start', { type: 'time', value: q?.start ?? '' })),
      field('Until', input('end', { type: 'time', value: q?.end ?? '' }))
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Save quiet hours'),
      h('button', { type: 'button', class: 'secondary', onclick: () => save(null) }, 'No quiet hours')
    )
  )
  const save = async (quiet: { start: string; end: string } | null) => {
    clearErrors(form)
    try {
      await api('PUT', `/v1/users/${ctx.uid}/probe_settings`, { quiet_hours: quiet })
      if (!quiet) for (const i of form.querySelectorAll('input')) i.value = ''
      announce(quiet ? `Quiet hours saved: ${quiet.start} to ${quiet.end}.` : 'Quiet hours removed.')
      await ctx.refreshStatus()
    } catch (err) {
      showError(form, err)
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const data = new FormData(form)
    void save({ start: String(data.get('start') ?? ''), end: String(data.get('end') ?? '') })
  })
  return section('Quiet hours', form)
}

function pauseSection(ctx: Ctx): HTMLElement {
  const body = h('div', {})
  const draw = () => {
    const s = ctx.user.probe_settings ?? {}
    const form = h('form', { class: 'stack', novalidate: true })
    if (s.paused_until) {
      form.append(
        h('p', {}, `Paused until ${when(s.paused_until, s.time_zone)}. Alarms are never held by a pause.`),
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Resume check-ins now'))
      )
    } else {
      form.append(
        h(
          'p',
          { class: 'hint' },
          'No scheduled check-in while paused; a pause longer than 7 days is texted to your emergency contacts.'
        ),
        field(
          'Pause for',
          h(
            'select',
            { name: 'days' },
            [1, 2, 3, 7, 14, 30].map((d) => h('option', { value: d }, `${d} day${d === 1 ? '' : 's'}`))
          )
        ),
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Pause check-ins'))
      )
    }
    onSubmit(form, async (data) => {
      const days = Number(data.get('days'))
      const pausedUntil = s.paused_until ? null : new Date(Date.now() + days * 86_400_000).toISOString()
      await api('PUT', `/v1/users/${ctx.uid}/probe_settings`, { paused_until: pausedUntil })
      await ctx.refreshStatus()
      draw()
      return pausedUntil ? `Check-ins paused for ${days} day${days === 1 ? '' : 's'}.` : 'Check-ins resumed.'
    })
    show(body, form)
  }
  draw()
  return section('Pause', body)
}

const CONSENT_LABEL: Record<string, string> = {
  pending: 'Invited, not agreed yet',
  agreed: 'Agreed',
  refused: 'Refused (texted STOP)'
}

function contactForm(contact: any | null, submitLabel: string, formName: string): HTMLFormElement {
  return h(
    'form',
    { class: 'stack contact-form', novalidate: true, 'aria-label': formName },
    h(
      'div',
      { class: 'row' },
      field(
        'First name',
        input('first_name', { value: contact?.first_name ?? '', autocomplete: 'off', required: true })
      ),
      field('Last name', input('last_name', { value: contact?.last_name ?? '', autocomplete: 'off', required: true }))
    ),
    field(
      'Mobile number',
      input('phone_number', { type: 'tel', value: contact?.phone_number ?? '', autocomplete: 'off', required: true }),
      'International format, e.g. +14165550123.'
    ),
    field('Email (optional)', input('email', { type: 'email', value: contact?.email ?? '', autocomplete: 'off' })),
    field(
      'Emergency contact',
      h('input', { type: 'checkbox', name: 'is_emergency_contact', checked: Boolean(contact?.is_emergency_contact) }),
      'Alerted when you do not answer. Kronus texts them an invitation to agree first.'
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, submitLabel))
  )
}

function contactPayload(data: FormData): Record<string, unknown> {
  const email = textOf(data, 'email')
  return {
    first_name: textOf(data, 'first_name') ?? '',
    last_name: textOf(data, 'last_name') ?? '',
    phone_number: textOf(data, 'phone_number') ?? '',
    ...(email ? { email } : {}),
    is_emergency_contact: data.get('is_emergency_contact') === 'on'
  }
}

function contactsSection(ctx: Ctx): HTMLElement {
  const list = h('ul', { class: 'contacts', id: 'contact-list' })
  const reload = async () => {
    const contacts = await api<any[]>('GET', `/v1/users/${ctx.uid}/contacts`)
    show(list, contacts.length ? contacts.map(row) : h('li', { class: 'empty' }, 'No contacts yet.'))
  }
  const row = (c: any): HTMLElement => {
    const item = h('li', { class: 'contact' })
    const name = fullName(c)
    // Back to the contact as it was, with the focus on its first button.
    const cancel = () =>
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            drawRead()
            item.querySelector<HTMLElement>('button')?.focus()
          }
        },
        'Cancel'
      )
    const drawRead = () => {
      const consent = c.is_emergency_contact ? (CONSENT_LABEL[c.consent_state] ?? 'Not invited yet') : null
      show(
        item,
        h(
          'div',
          { class: 'contact-main' },
          h('strong', {}, name),
          h('span', {}, c.phone_number),
          c.is_emergency_contact ? h('span', { class: 'badge emergency' }, 'Emergency contact') : null,
          consent ? h('span', { class: `badge consent-${c.consent_state ?? 'none'}` }, consent) : null,
          c.sms_opted_out_at
            ? h('span', { class: 'badge consent-refused' }, 'Texted STOP: texts cannot reach them')
            : null
        ),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${name}`, onclick: drawEdit }, 'Edit'),
          c.is_emergency_contact && c.consent_state !== 'agreed'
            ? h(
                'button',
                { type: 'button', class: 'secondary', 'aria-label': `Invite ${name} again`, onclick: reinvite },
                'Re-invite'
              )
            : null,
          h(
            'button',
            { type: 'button', class: 'danger', 'aria-label': `Delete ${name}`, onclick: drawConfirm },
            'Delete'
          )
        ),
        h('div', { class: 'row-error', role: 'alert' })
      )
    }
    const rowError = (err: unknown) => {
      const box = item.querySelector('.row-error')
      if (box) box.textContent = err instanceof Error ? err.message : String(err)
    }
    const reinvite = async () => {
      try {
        await api('POST', `/v1/users/${ctx.uid}/contacts/${c.id}/invite`)
        announce(`Invitation texted to ${name}.`)
        await reload()
      } catch (err) {
        rowError(err)
      }
    }
    const drawConfirm = () => {
      const yes = h('button', { type: 'button', class: 'danger', onclick: remove }, `Yes, delete ${name}`)
      show(
        item,
        h('p', {}, `Delete ${name}? They will no longer be alerted.`),
        h('div', { class: 'actions' }, yes, cancel()),
        h('div', { class: 'row-error', role: 'alert' })
      )
      yes.focus()
    }
    const remove = async () => {
      try {
        await api('DELETE', `/v1/users/${ctx.uid}/contacts/${c.id}`)
        announce(`${name} deleted.`)
        await reload()
        await ctx.refreshStatus()
      } catch (err) {
        rowError(err)
      }
    }
    const drawEdit = () => {
      const form = contactForm(c, `Save ${name}`, `Edit ${name}`)
      form.querySelector('.actions')!.append(cancel())
      onSubmit(form, async (data) => {
        await api('PUT', `/v1/users/${ctx.uid}/contacts/${c.id}`, contactPayload(data))
        await reload()
        return `${name} saved.`
      })
      show(item, form)
      form.querySelector('input')?.focus()
    }
    drawRead()
    return item
  }
  const add = contactForm(null, 'Add contact', 'Add a contact')
  onSubmit(add, async (data) => {
    const created = await api('POST', `/v1/users/${ctx.uid}/contacts`, contactPayload(data))
    add.reset()
    await reload()
    return `${fullName(created)} added${created.is_emergency_contact ? ': an invitation was texted to them' : ''}.`
  })
  void reload()
  return section('Contacts', list, h('details', { class: 'add' }, h('summary', {}, 'Add a contact'), add))
}

function escalationSection(ctx: Ctx): HTMLElement {
  const body = h('div', {})
  const draw = (e: any) => {
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      field(
        'Who is alerted',
        h(
          'select',
          { name: 'mode' },
          h('option', { value: 'all', selected: e.mode === 'all' }, 'Every emergency contact at once'),
          h('option', { value: 'ordered', selected: e.mode === 'ordered' }, 'One more contact at each step, in order')
        )
      ),
      field('Minutes to wait for an acknowledgement', input('step_minutes', { type: 'number', value: e.step_minutes })),
      field('Reminders to contacts who have not acknowledged', input('repeats', { type: 'number', value: e.repeats })),
      field(
        'Call a contact whose text failed or went unanswered',
        h('input', { type: 'checkbox', name: 'voice_calls', checked: Boolean(e.voice_calls) })
      ),
      field(
        e.duress_word_set ? 'New duress word (one is set)' : 'Duress word (none set)',
        input('duress_word', { type: 'password', autocomplete: 'off' }),
        'A word that answers a check-in like "Y" but silently alerts your emergency contacts. Leave empty to keep it as it is.'
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit' }, 'Save escalation'),
        e.duress_word_set
          ? h('button', { type: 'button', class: 'secondary', onclick: clearDuress }, 'Remove duress word')
          : null
      )
    )
    async function clearDuress(): Promise<void> {
      clearErrors(form)
      try {
        draw(await api('PUT', `/v1/users/${ctx.uid}/escalation`, { duress_word: null }))
        announce('Duress word removed.')
      } catch (err) {
        showError(form, err)
      }
    }
    onSubmit(form, async (data) => {
      const duress = textOf(data, 'duress_word')
      const saved = await api('PUT', `/v1/users/${ctx.uid}/escalation`, {
        mode: data.get('mode'),
        step_minutes: Number(data.get('step_minutes')),
        repeats: Number(data.get('repeats')),
        voice_calls: data.get('voice_calls') === 'on',
        ...(duress ? { duress_word: duress } : {})
      })
      draw(saved)
      return duress ? 'Escalation saved, with the new duress word.' : 'Escalation saved.'
    })
    show(body, form)
  }
  api('GET', `/v1/users/${ctx.uid}/escalation`).then(draw, (err) =>
    show(body, h('p', { role: 'alert' }, String(err.message)))
  )
  return section('Escalation', body)
}

function checkinLinkSection(ctx: Ctx): HTMLElement {
  const shown = h('div', { 'aria-live': 'polite' })
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h(
      'p',
      { class: 'hint' },
      'A private link that checks you in when opened. Kronus keeps only its fingerprint, so it is shown once: bookmark it.'
    ),
    shown,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Create a new link'),
      h('button', { type: 'button', class: 'danger', onclick: revoke }, 'Revoke my link')
    )
  )
  onSubmit(form, async () => {
    const link = await api('POST', `/v1/users/${ctx.uid}/checkin_link`)
    show(
      shown,
      h('p', {}, link.rotated ? 'Your new link (the old one no longer works):' : 'Your link:'),
      h('p', {}, h('a', { href: link.url, class: 'secret-link', id: 'checkin-link' }, link.url))
    )
    return 'Check-in link created.'
  })
  async function revoke(): Promise<void> {
    clearErrors(form)
    try {
      await api('DELETE', `/v1/users/${ctx.uid}/checkin_link`)
      show(shown, h('p', {}, 'Your check-in link is revoked: it no longer works.'))
      announce('Check-in link revoked.')
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) show(shown, h('p', {}, 'You have no check-in link.'))
      else showError(form, err)
    }
  }
  return section('Check-in link', form)
}

function historySection(ctx: Ctx): HTMLElement {
  const zone = ctx.user.probe_settings?.time_zone
  const alarms = h('div', { id: 'alarm-history' })
  const probes = h('div', {})
  const load = async () => {
    const [a, p] = await Promise.all([apiPage(`/v1/users/${ctx.uid}/alarms`), apiPage(`/v1/users/${ctx.uid}/probes`)])
    show(
      alarms,
      h('h3', {}, 'Alarms'),
      a.data.length ? a.data.map((alarm) => alarmDetails(alarm, zone)) : h('p', {}, 'No alarm, ever.')
    )
    const recent = p.data.slice(-20).reverse()
    show(
      probes,
      h('h3', {}, 'Check-ins'),
      recent.length
        ? h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'When'),
                h('th', { scope: 'col' }, 'Outcome'),
                h('th', { scope: 'col' }, 'Answer')
              )
            ),
            h(
              'tbody',
              {},
              recent.map((probe: any) =>
                h(
                  'tr',
                  {},
                  h('td', {}, when(probe.created_at, zone)),
                  h('td', {}, probe.status?.name ?? '—'),
                  h('td', {}, probe.last_response || '—')
                )
              )
            )
          )
        : h('p', {}, 'No check-in yet.')
    )
  }
  ctx.refreshHistory = load
  void load()
  return section('History', alarms, probes)
}
