// autocannon ships no types; only what bench/lib/load.ts uses.
declare module 'autocannon' {
  interface Stats {
    average: number
    p50: number
    p99: number
    total: number
  }
  interface Options {
    url: string
    headers?: Record<string, string>
    connections?: number
    duration?: number
  }
  interface Result {
    requests: Stats
    latency: Stats
    errors: number
    timeouts: number
    non2xx: number
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
