import { type Document, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml'
import { ConfigError } from './resolve.js'
import { configSchema } from './schema.js'

// A plain (unquoted) scalar that YAML reads as null: the key is treated as unset.
const PLAIN_NULL = /^(~|null|Null|NULL)$/

/**
 * Every scalar is kept as the text the user wrote (joi converts numbers and booleans where
 * the schema wants them). A YAML type guess would change values the first Kronus read as
 * strings: the passphrase `0123` would become the number 123 and open no database.
 */
function toPlain(node: unknown, doc: Document): unknown {
  if (isAlias(node)) return toPlain(node.resolve(doc), doc)
  if (isMap(node)) {
    const out: Record<string, unknown> = {}
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
      const value = toPlain(pair.value, doc)
      if (value !== undefined) out[key] = value
    }
    return out
  }
  if (isSeq(node)) return node.items.map((item) => toPlain(item, doc))
  if (isScalar(node)) {
    if (node.value === null || node.value === undefined) return undefined
    const text = String(node.value)
    // The first Kronus read an empty value (`applicationCredentials:`, or `""`) as unset, as viper does.
    if (text.trim() === '') return undefined
    return node.type === 'PLAIN' && PLAIN_NULL.test(text) ? undefined : text
  }
  return undefined
}

type KeyTree = { [key: string]: KeyTree }

function keyTree(description: any): KeyTree {
  const tree: KeyTree = {}
  for (const [key, child] of Object.entries<any>(description?.keys ?? {})) tree[key] = keyTree(child)
  return tree
}

const SCHEMA_KEYS = keyTree(configSchema.describe())
// The first Kronus's `sqlite:` section sits at the top level, beside `kronus:` (its Go
// ServerConfig has Sqlite, Kronus and Google side by side); Kronus keeps it in kronus.sqlite.
const KNOWN_KEYS: KeyTree = { ...SCHEMA_KEYS, sqlite: SCHEMA_KEYS.kronus!.sqlite! }

/**
 * The first Kronus read its file with viper, which ignores the case of keys; map each key
 * to its spelling here so a file that worked there works here. Unknown keys are kept as
 * written, for validation to name.
 */
function matchKeyCase(value: unknown, known: KeyTree | undefined, path: string[], problems: string[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !known) return value
  const byLowerCase = new Map(Object.keys(known).map((k) => [k.toLowerCase(), k]))
  const out: Record<string, unknown> = {}
  const writtenAs = new Map<string, string>()
  for (const [key, child] of Object.entries(value)) {
    const name = byLowerCase.get(key.toLowerCase()) ?? key
    const earlier = writtenAs.get(name)
    if (earlier !== undefined) {
      problems.push(`${[...path, name].join('.')} is given twice (as "${earlier}" and "${key}")`)
      continue
    }
    writtenAs.set(name, key)
    out[name] = matchKeyCase(child, known[name], [...path, name], problems)
  }
  return out
}

/**
 * Moves a top-level `sqlite:` section (the first Kronus's layout) to kronus.sqlite, where
 * the nested form (also accepted) has it. Given in both places, the file is ambiguous.
 */
function foldTopLevelSqlite(config: Record<string, unknown>, problems: string[]): Record<string, unknown> {
  const { sqlite, ...rest } = config
  if (sqlite === undefined) return config
  const kronus = rest.kronus
  if (kronus !== undefined && (typeof kronus !== 'object' || kronus === null || Array.isArray(kronus))) return config
  const nested = (kronus as Record<string, unknown> | undefined)?.sqlite
  if (nested !== undefined) {
    problems.push(
      'sqlite and kronus.sqlite are both given: keep one (the top-level sqlite: of the first Kronus, or kronus.sqlite:)'
    )
    return config
  }
  return { ...rest, kronus: { ...(kronus as Record<string, unknown> | undefined), sqlite } }
}

/** Reads a configuration in the first Kronus's config.yml format. */
export function parseYamlConfig(text: string, file: string): Record<string, unknown> {
  const doc = parseDocument(text, { schema: 'failsafe', prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => e.message.trimEnd()),
      `cannot parse ${file}`
    )
  }
  const value = toPlain(doc.contents, doc)
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(
      ['the top level must be a mapping of keys such as "kronus:" and "twilio:"'],
      `cannot parse ${file}`
    )
  }
  const problems: string[] = []
  const config = foldTopLevelSqlite(matchKeyCase(value, KNOWN_KEYS, [], problems) as Record<string, unknown>, problems)
  if (problems.length > 0) throw new ConfigError(problems, `invalid configuration in ${file}`)
  return config
}
