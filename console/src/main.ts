import { adminView } from './admin.js'
import { ApiError, api, signedInUserId, signIn, signOut } from './api.js'
import { announce, field, h, show } from './dom.js'
import { onSubmit } from './forms.js'
import { personView } from './person.js'
import { devPhoneAvailable, phoneView, stopPhone } from './phone.js'

/*
 * The console's shell: the sign-in page, then a header with the views this user may open
 * (their own page; an admin's page; the dev phone on a dev server) and signing out.
 */

const ADMIN_ROLE_ID = 1

type View = 'me' | 'admin' | 'phone'

const main = document.getElementById('main')!
const nav = document.getElementById('nav')!

let me: any = null
let phone = false

function signInView(message?: string): void {
  stopPhone()
  me = null
  show(nav)
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true })
  const form = h(
    'form',
    { class: 'stack sign-in', novalidate: true },
    field('Email', email),
    field(
      'Password',
      h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in'))
  )
  onSubmit(form, async (data) => {
    try {
      await signIn(String(data.get('email') ?? '').trim(), String(data.get('password') ?? ''))
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw new ApiError(401, ['Wrong email or password.'])
      throw err
    }
    await start()
    return undefined
  })
  show(
    main,
    h(
      'section',
      { class: 'card narrow', 'aria-labelledby': 'sign-in-title' },
      h('h1', { id: 'sign-in-title' }, 'Sign in to Kronus'),
      message ? h('p', { role: 'status' }, message) : null,
      form,
      h(
        'p',
        { class: 'hint' },
        'You stay signed in only while this tab is open: reloading the page signs you out, and nothing is stored in the browser.'
      )
    )
  )
  email.focus()
}

async function open(view: View): Promise<void> {
  stopPhone()
  for (const link of nav.querySelectorAll('button[data-view]')) {
    if (link.getAttribute('data-view') === view) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  show(main, h('p', { class: 'hint' }, 'Loading…'))
  try {
    if (view === 'admin') await adminView(main)
    else if (view === 'phone') await phoneView(main, me.role_id === ADMIN_ROLE_ID)
    else await personView(main, me.id)
  } catch (err) {
    show(main, h('p', { role: 'alert', class: 'form-error' }, err instanceof Error ? err.message : String(err)))
  }
  main.querySelector('h1')?.setAttribute('tabindex', '-1')
  main.querySelector<HTMLElement>('h1')?.focus()
}

async function start(): Promise<void> {
  me = await api('GET', `/v1/users/${signedInUserId()}`)
  phone = await devPhoneAvailable()
  const item = (view: View, label: string) =>
    h(
      'li',
      {},
      h('button', { type: 'button', class: 'nav-link', 'data-view': view, onclick: () => void open(view) }, label)
    )
  show(
    nav,
    h(
      'ul',
      {},
      item('me', 'My check-ins'),
      me.role_id === ADMIN_ROLE_ID ? item('admin', 'Admin') : null,
      phone ? item('phone', 'Dev phone') : null,
      h('li', {}, h('span', { class: 'who' }, `${me.first_name} ${me.last_name}`)),
      h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'nav-link',
            onclick: async () => {
              await signOut()
              signInView('You are signed out.')
              announce('Signed out.')
            }
          },
          'Sign out'
        )
      )
    )
  )
  await open('me')
}

window.addEventListener('kronus:signed-out', () => signInView('Your session ended: sign in again.'))
signInView()
