/** Where progress goes: a terminal gets one line redrawn in place, anything else plain lines. */
export interface ProgressStream {
  write(text: string): unknown
  isTTY?: boolean
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`
}

/** A plain line every this many percent, so a log of a long transfer stays short. */
const PLAIN_STEP_PERCENT = 10

/**
 * Shows how far a transfer has got: `uploading kronus-....db  1.5 MiB / 3.0 MiB  50%`.
 * On a terminal the line is redrawn whenever the whole percent changes; elsewhere (a pipe,
 * a log file) a new line is written every 10% and at the end, never a carriage return.
 */
export class ProgressLine {
  #shownPercent = -1
  #done = false

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string
  ) {}

  update(bytesDone: number, bytesTotal: number): void {
    if (this.#done) return
    const percent = bytesTotal > 0 ? Math.min(100, Math.floor((bytesDone / bytesTotal) * 100)) : 100
    const text = `${this.label}  ${formatBytes(bytesDone)} / ${formatBytes(bytesTotal)}  ${percent}%`
    if (this.stream.isTTY) {
      if (percent === this.#shownPercent) return
      this.#shownPercent = percent
      this.stream.write(`\r\x1b[2K${text}`)
      return
    }
    const step = Math.floor(percent / PLAIN_STEP_PERCENT) * PLAIN_STEP_PERCENT
    if (step <= this.#shownPercent) return
    this.#shownPercent = step
    this.stream.write(`${text}\n`)
  }

  /** Ends the line on a terminal; further updates are ignored. */
  finish(): void {
    if (this.#done) return
    this.#done = true
    if (this.stream.isTTY && this.#shownPercent >= 0) this.stream.write('\n')
  }
}
