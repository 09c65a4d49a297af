/** A key path into a configuration object, e.g. ['kronus', 'sqlite', 'passPhrase']. */
export type KeyPath = readonly string[]

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function getAt(obj: unknown, path: KeyPath): unknown {
  let node = obj
  for (const key of path) {
    if (!isRecord(node)) return undefined
    node = node[key]
  }
  return node
}

/** Unset, null or blank: a lower-precedence source (environment, dev secrets, defaults) may fill it. */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === ''
}

/**
 * A copy of `obj` with `value` at `path`. Only the objects along the path are copied, so a
 * user's configuration is never mutated and values such as plugin instances are kept as they are.
 */
export function setAt<T extends object>(obj: T, path: KeyPath, value: unknown): T {
  const [key, ...rest] = path
  if (key === undefined) return obj
  const record = obj as Record<string, unknown>
  // A non-object in the way is the user's mistake: keep it so validation reports it.
  if (rest.length > 0 && !isAbsent(record[key]) && !isRecord(record[key])) return obj
  const child = isRecord(record[key]) ? (record[key] as object) : {}
  return { ...record, [key]: rest.length === 0 ? value : setAt(child, rest, value) } as T
}

/** Sets `value` at `path` only when nothing is there yet. */
export function fillAt<T extends object>(obj: T, path: KeyPath, value: unknown): T {
  return isAbsent(getAt(obj, path)) ? setAt(obj, path, value) : obj
}
