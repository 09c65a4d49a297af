/*
 * A strict reader of the Prometheus text format (0.0.4): every line is a HELP, a TYPE or
 * a sample of the family its TYPE announced; anything else throws, so a test that reads
 * /metrics through it also proves the whole text parses.
 */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface MetricFamily {
  name: string
  help: string
  type: string
  samples: Sample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`)
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] }

function parseLabels(text: string | undefined, line: string): Record<string, string> {
  const labels: Record<string, string> = {}
  if (!text) return labels
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text)
    if (!match) throw new Error(`bad labels in: ${line}`)
    labels[match[1]!] = match[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
  }
  return labels
}

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (text === 'NaN') return Number.NaN
  const value = Number(text)
  if (text.trim() === '' || Number.isNaN(value)) throw new Error(`bad value in: ${line}`)
  return value
}

export function parsePrometheus(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>()
  let current: MetricFamily | undefined
  for (const line of text.split('\n')) {
    if (line === '') continue
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line)
    if (help) {
      if (families.has(help[1]!)) throw new Error(`${help[1]} described twice`)
      current = { name: help[1]!, help: help[2]!, type: '', samples: [] }
      families.set(current.name, current)
      continue
    }
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line)
    if (type) {
      if (current?.name !== type[1] || current.type !== '') throw new Error(`TYPE without its HELP: ${line}`)
      current.type = type[2]!
      continue
    }
    const sample = SAMPLE.exec(line)
    if (!sample || !current?.type) throw new Error(`not Prometheus text format: ${line}`)
    const suffixes = SUFFIXES[current.type] ?? ['']
    if (!suffixes.some((suffix) => sample[1] === current!.name + suffix)) {
      throw new Error(`${sample[1]} outside its family (${current.name}): ${line}`)
    }
    current.samples.push({
      name: sample[1]!,
      labels: parseLabels(sample[2], line),
      value: parseValue(sample[3]!, line)
    })
  }
  for (const family of families.values()) if (!family.type) throw new Error(`${family.name} has no TYPE`)
  return families
}

/** The value of the one sample of `name` with exactly these labels, or undefined. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {}
): number | undefined {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue
      const keys = Object.keys(sample.labels)
      if (keys.length !== Object.keys(labels).length) continue
      if (keys.every((key) => sample.labels[key] === labels[key])) return sample.value
    }
  }
  return undefined
}

/** Every sample of `name` whose labels include these. */
export function samplesOf(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {}
): Sample[] {
  return [...families.values()].flatMap((family) =>
    family.samples.filter(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
    )
  )
}
