import t from 'tap'
import { formatBytes, ProgressLine } from '../../../plugins/gcs-backup/progress-line.js'

function stream(isTTY: boolean): { isTTY: boolean; writes: string[]; write(text: string): void } {
  const writes: string[] = []
  return { isTTY, writes, write: (text: string) => void writes.push(text) }
}

t.test('on a terminal one line is redrawn in place, once per whole percent, and ended at finish', async (t) => {
  const out = stream(true)
  const line = new ProgressLine(out, 'uploading')
  const total = 4 * 1024 * 1024
  for (let done = 0; done <= total; done += 1024) line.update(done, total)
  line.finish()
  line.update(total, total)

  t.equal(out.writes.length, 102, '0% to 100%, then the newline')
  t.ok(
    out.writes.slice(0, -1).every((w) => w.startsWith('\r\x1b[2K') && !w.includes('\n')),
    'each redraw returns to the line start'
  )
  t.equal(out.writes[50], '\r\x1b[2Kuploading  2.0 MiB / 4.0 MiB  50%')
  t.equal(out.writes.at(-1), '\n')
})

t.test('elsewhere, plain lines every 10% and at the end, with no carriage return', async (t) => {
  const out = stream(false)
  const line = new ProgressLine(out, 'downloading x.db')
  for (const done of [0, 5, 12, 19, 37, 99, 100]) line.update(done, 100)
  line.finish()
  t.same(out.writes, [
    'downloading x.db  0 B / 100 B  0%\n',
    'downloading x.db  12 B / 100 B  12%\n',
    'downloading x.db  37 B / 100 B  37%\n',
    'downloading x.db  99 B / 100 B  99%\n',
    'downloading x.db  100 B / 100 B  100%\n'
  ])
})

t.test('sizes read as people read them', async (t) => {
  t.equal(formatBytes(0), '0 B')
  t.equal(formatBytes(1023), '1023 B')
  t.equal(formatBytes(1536), '1.5 KiB')
  t.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB')
})
