/*
 * Building the page with DOM calls only, never by parsing strings as markup: nothing a user or the API wrote
 * can ever become markup or script (the CSP forbids inline script anyway).
 */

type Child = Node | string | null | undefined | false
type Attrs = Record<string, string | boolean | number | EventListener | null | undefined>

/** An element with attributes (`on…` are listeners; `true` sets a boolean attribute) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value)
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value)
    else if (name === 'checked' && el instanceof HTMLInputElement) el.checked = Boolean(value)
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
  return el
}

let idSequence = 0
/** A page-unique id, to tie a label or a description to its control. */
export function uid(prefix: string): string {
  idSequence += 1
  return `${prefix}-${idSequence}`
}

/** A labelled control: the label names it (its accessible name), the hint describes it. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  hint?: string
): HTMLElement {
  control.id ||= uid(control.getAttribute('name') ?? 'field')
  const hintEl = hint ? h('p', { class: 'hint', id: uid('hint') }, hint) : null
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id)
  const isCheck = control instanceof HTMLInputElement && control.type === 'checkbox'
  const labelEl = h('label', { for: control.id }, label)
  return isCheck
    ? h('div', { class: 'field check' }, control, labelEl, hintEl)
    : h('div', { class: 'field' }, labelEl, control, hintEl)
}

/** Says a message to screen readers (the page's polite live region) without moving focus. */
export function announce(message: string): void {
  const region = document.getElementById('announcer')
  if (!region) return
  region.textContent = ''
  // A fresh text node after clearing makes screen readers read a repeated message again.
  requestAnimationFrame(() => (region.textContent = message))
}

/** Replaces what an element shows. */
export function show(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren()
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
}

/** A section with a heading, the unit every view is made of. */
export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  const headingId = uid('h')
  return h('section', { class: 'card', 'aria-labelledby': headingId }, h('h2', { id: headingId }, title), ...children)
}
