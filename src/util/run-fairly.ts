/**
 * Runs task 0 to `keys.length - 1`, at most `slots` at once, and resolves once every task
 * begun has ended and no more will begin (all have begun, or `stopped()` says so). When a
 * slot frees, the next task is the first waiting one of the key with the fewest tasks
 * running (ties: the key whose next task comes first). So a key whose tasks hang holds
 * only the slots no other key's tasks are waiting for: the others keep going. `run` must
 * not reject.
 */
export function runFairly(
  keys: readonly string[],
  slots: number,
  run: (index: number) => Promise<void>,
  stopped: () => boolean
): Promise<void> {
  const waiting = new Map<string, number[]>()
  keys.forEach((key, index) => {
    const queue = waiting.get(key)
    if (queue) queue.push(index)
    else waiting.set(key, [index])
  })
  const running = new Map<string, number>()
  let active = 0

  const next = (): number | undefined => {
    let chosen: number[] | undefined
    let chosenKey = ''
    for (const [key, queue] of waiting) {
      const busy = running.get(key) ?? 0
      const best = chosen ? (running.get(chosenKey) ?? 0) : Number.POSITIVE_INFINITY
      if (busy < best || (busy === best && queue[0]! < chosen![0]!)) {
        chosen = queue
        chosenKey = key
      }
    }
    if (!chosen) return undefined
    const index = chosen.shift()!
    if (chosen.length === 0) waiting.delete(chosenKey)
    return index
  }

  return new Promise((resolve) => {
    const fill = () => {
      while (active < slots && !stopped()) {
        const index = next()
        if (index === undefined) break
        const key = keys[index]!
        active++
        running.set(key, (running.get(key) ?? 0) + 1)
        void run(index).finally(() => {
          active--
          running.set(key, running.get(key)! - 1)
          fill()
        })
      }
      if (active === 0) resolve()
    }
    fill()
  })
}
