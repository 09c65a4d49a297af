import { readFileSync } from 'node:fs'

const MIB = 1024 * 1024

/**
 * What V8's collections did in a case, from its log written with `node --trace-gc-nvp`: the
 * bytes the scavenges promoted to the old generation (what makes V8 grow the heap; see
 * docs/BENCHMARKS.md, "what the PostgreSQL fan-out's peak is made of") and the major
 * collections. Null when the log holds no collection.
 */
export function summariseGcLog(file: string): string | null {
  let scavenges = 0
  let promoted = 0
  let allocated = 0
  const majors: string[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const kind = / gc=(\w+) /.exec(line)?.[1]
    if (!kind) continue
    const field = (name: string) => Number(new RegExp(` ${name}=(\\d+)`).exec(line)?.[1] ?? 0)
    if (kind === 's') {
      scavenges++
      promoted += field('promoted')
      allocated += field('allocated')
    } else if (kind === 'mc' || kind === 'mmc') {
      majors.push(`${(field('total_size_before') / MIB).toFixed(0)}→${(field('total_size_after') / MIB).toFixed(0)}`)
    }
  }
  if (scavenges === 0 && majors.length === 0) return null
  return (
    `${scavenges} scavenges promoted ${(promoted / MIB).toFixed(1)} MiB of ${(allocated / MIB).toFixed(0)} MiB allocated; ` +
    `${majors.length} major collections (MiB of heap before→after: ${majors.join(', ')})`
  )
}
