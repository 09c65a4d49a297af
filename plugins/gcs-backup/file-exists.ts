import { stat } from 'node:fs/promises'

/** Whether a path exists; any error other than "not found" (permissions, I/O) is thrown, not taken for absence. */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}
