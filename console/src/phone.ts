import { api, apiIfPresent, apiPage } from './api.js'
import { field, h, section, show } from './dom.js'
import { fullName, when } from './format.js'
import { onSubmit, textOf } from './forms.js'

/*
 * The dev phone (only when the server runs with --dev): text Kronus as any number, see its
 * replies, and watch every text and call Kronus sends, polled every 2 seconds.
 */

interface Sent {
  id: number
  to: string
  body: string
  kind: 'sms' | 'call'
  at: string
}

/** Whether the server offers the dev phone (it answers only in dev mode). */
export async function devPhoneAvailable(): Promise<boolean> {
  try {
    return (await apiIfPresent('/dev/texts')) !== null
  } catch {
    return false
  }
}

let polling: number | undefined

export function stopPhone(): void {
  clearInterval(polling)
  polling = undefined
}

export async function phoneView(root: HTMLElement, isAdmin: boolean): Promise<void> {
  stopPhone()
  const users = isAdmin ? (await apiPage('/v1/users')).data : []
  const from = h('input', { name: 'from', type: 'tel', autocomplete: 'off', list: 'phone-users' })
  const replies = h('ol', { class: 'conversation', id: 'phone-replies', 'aria-live': 'polite' })
  const outbox = h('ol', { class: 'conversation', id: 'phone-outbox', 'aria-live': 'polite' })
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    field('From (a user or contact number)', from, 'Pick a user or type any E.164 number.'),
    h(
      'datalist',
      { id: 'phone-users' },
      users.map((u: any) => h('option', { value: u.phone_number }, fullName(u)))
    ),
    field('Text', h('textarea', { name: 'text', rows: 2 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send text'))
  )
  onSubmit(form, async (data) => {
    const sender = textOf(data, 'from') ?? ''
    const text = String(data.get('text') ?? '')
    const answer = await api('POST', '/dev/sms', { from: sender, text })
    replies.append(h('li', { class: 'in' }, h('strong', {}, `${sender}: `), text))
    for (const reply of answer.replies as string[])
      replies.append(h('li', { class: 'out' }, h('strong', {}, 'Kronus: '), reply))
    form.querySelector('textarea')!.value = ''
    return answer.replies.length ? `Kronus replied: ${answer.replies.join(' ')}` : 'Sent; Kronus did not reply.'
  })
  show(
    root,
    h('h1', {}, 'Dev phone'),
    h(
      'div',
      { class: 'columns' },
      section('Text Kronus', form, h('h3', {}, 'Conversation'), replies),
      section(
        'What Kronus sent',
        h('p', { class: 'hint' }, 'Every text and call of this dev server, newest last, refreshed every 2 seconds.'),
        outbox
      )
    )
  )
  let after = 0
  const poll = async () => {
    const sent = await apiIfPresent<Sent[]>(`/dev/texts?after=${after}`)
    for (const t of sent ?? []) {
      after = Math.max(after, t.id)
      outbox.append(
        h(
          'li',
          { class: t.kind },
          h('strong', {}, `${t.kind === 'call' ? 'Call' : 'Text'} to ${t.to}`),
          ` (${when(t.at)}): `,
          t.body
        )
      )
    }
  }
  await poll()
  polling = window.setInterval(() => {
    if (!root.isConnected || !root.querySelector('#phone-outbox')) return stopPhone()
    poll().catch(() => undefined)
  }, 2000)
}
