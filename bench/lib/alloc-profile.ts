import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface ProfileNode {
  callFrame: CallFrame
  selfSize: number
  children: ProfileNode[]
}

interface SamplingHeapProfile {
  head: ProfileNode
}

interface Site {
  self: number
  total: number
}

/**
 * Bytes allocated by call site, garbage included: V8's sampling heap profiler run through
 * the inspector with objects collected by major and minor GCs kept in the profile (Node's
 * own --heap-prof drops them, so it shows only what was still alive). Runs in the process it
 * measures; `npm run bench -- --alloc-profile <prefix>` writes, per fan-out case,
 * `<prefix>.<db>.<users>.heapprofile` (open it in Chrome DevTools, Memory tab) and a
 * `.txt` ranking of functions by self and total bytes (total: the function and what it
 * called, each function counted once per stack).
 */
export class AllocationProfile {
  readonly #session = new Session()

  /**
   * `survivors`: objects a minor GC collected are left out, so the profile holds what
   * outlived the young generation (was promoted) or was allocated old: what fills the old
   * space between major GCs.
   */
  constructor(
    private readonly survivors = false,
    private readonly intervalBytes = 32 * 1024
  ) {}

  start(): Promise<void> {
    this.#session.connect()
    return this.#post('HeapProfiler.startSampling', {
      samplingInterval: this.intervalBytes,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !this.survivors
    }).then(() => undefined)
  }

  async stopAndWrite(prefix: string): Promise<void> {
    const { profile } = (await this.#post('HeapProfiler.stopSampling', {})) as { profile: SamplingHeapProfile }
    this.#session.disconnect()
    writeFileSync(`${prefix}.heapprofile`, JSON.stringify(profile))
    writeFileSync(`${prefix}.txt`, rank(profile))
  }

  #post(method: string, params: object): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.#session.post(method, params, (err, result) => (err ? reject(err) : resolve(result)))
    )
  }
}

function siteName(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/')
  const short = file.replace(/^.*\/dist\//, 'dist/')
  return `${frame.functionName || '(anonymous)'} ${short}:${frame.lineNumber + 1}`
}

/** Functions ranked by self bytes and by total bytes, MiB and share of all bytes sampled. */
function rank(profile: SamplingHeapProfile): string {
  const sites = new Map<string, Site>()
  let all = 0
  const onStack = new Map<string, number>()
  const walk = (node: ProfileNode): number => {
    const name = siteName(node.callFrame)
    const site = sites.get(name) ?? { self: 0, total: 0 }
    sites.set(name, site)
    site.self += node.selfSize
    all += node.selfSize
    onStack.set(name, (onStack.get(name) ?? 0) + 1)
    let subtree = node.selfSize
    for (const child of node.children) subtree += walk(child)
    const depth = onStack.get(name)! - 1
    onStack.set(name, depth)
    // Recursion: the outermost frame of a function counts its subtree, the inner ones not again.
    if (depth === 0) site.total += subtree
    return subtree
  }
  walk(profile.head)
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1).padStart(8)
  const pct = (bytes: number) => `${((bytes / all) * 100).toFixed(1).padStart(5)} %`
  const table = (by: keyof Site) =>
    [...sites]
      .sort((a, b) => b[1][by] - a[1][by])
      .slice(0, 60)
      .map(([name, s]) => `${mib(s[by])} MiB ${pct(s[by])}  ${name}`)
      .join('\n')
  return `${mib(all)} MiB allocated in all (sampled)\n\nby self bytes:\n${table('self')}\n\nby total bytes:\n${table('total')}\n`
}
