import { ApiError } from './api.js'
import { announce, h } from './dom.js'

/*
 * What every form of the console does with its answer: the API's own message shown next to
 * the form and announced (role="alert"), the fields it names marked invalid and the first
 * of them focused; on success a short confirmation announced politely.
 */

/** The error box of a form, created on first use, always just above its buttons. */
function errorBox(form: HTMLFormElement): HTMLElement {
  let box = form.querySelector<HTMLElement>(':scope > .form-error')
  if (!box) {
    box = h('div', { class: 'form-error', role: 'alert' })
    form.prepend(box)
  }
  return box
}

/** The field names an API message quotes, e.g. `"cron_expression" must be…`. */
function namedFields(message: string): string[] {
  return [...message.matchAll(/"([a-z_]+)(?:\.[a-z_]+)?"/g)].map((m) => m[1]!)
}

export function clearErrors(form: HTMLFormElement): void {
  form.querySelector(':scope > .form-error')?.remove()
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid')
}

export function showError(form: HTMLFormElement, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err)
  const box = errorBox(form)
  box.textContent = message
  let first: HTMLElement | null = null
  for (const name of namedFields(message)) {
    const control = form.querySelector<HTMLElement>(`[name="${name}"]`)
    if (!control) continue
    control.setAttribute('aria-invalid', 'true')
    first ??= control
  }
  first?.focus()
}

/**
 * Runs `action` when the form is submitted: its submit buttons are disabled meanwhile,
 * errors shown as above, `done` (a sentence) announced when it worked.
 */
export function onSubmit(form: HTMLFormElement, action: (data: FormData) => Promise<string | undefined>): void {
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    clearErrors(form)
    const buttons = [...form.querySelectorAll<HTMLButtonElement>('button')]
    for (const b of buttons) b.disabled = true
    try {
      const done = await action(new FormData(form))
      if (done) announce(done)
    } catch (err) {
      showError(form, err)
      if (!(err instanceof ApiError)) console.error(err)
    } finally {
      for (const b of buttons) if (b.isConnected) b.disabled = false
    }
  })
}

/** A form field's text, trimmed; undefined when empty. */
export function textOf(data: FormData, name: string): string | undefined {
  const value = String(data.get(name) ?? '').trim()
  return value === '' ? undefined : value
}
