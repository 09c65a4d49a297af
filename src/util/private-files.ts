import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs'

/*
 * Kronus's files hold everyone's phone numbers and the keys that sign their tokens: only
 * the account Kronus runs as may read them, whatever the umask.
 */
export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIRECTORY_MODE = 0o700

/**
 * Creates `dir` and its missing parents owner-only (0700). A directory that already exists
 * is not changed, as it may be shared (the working folder, /var/lib); the result says
 * whether group or others can reach into it, for the caller to warn about.
 */
export function ensurePrivateDirectory(dir: string): { openToOthers: boolean } {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE })
  return { openToOthers: (statSync(dir).mode & 0o077) !== 0 }
}

/** Creates `file` empty and owner-only (0600) if missing, and tightens it to 0600 if it exists. */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE))
  if ((statSync(file).mode & 0o777) !== PRIVATE_FILE_MODE) chmodSync(file, PRIVATE_FILE_MODE)
}

/** Tightens `file` to 0600 if it exists; a missing file is fine. */
export function tightenIfPresent(file: string): void {
  if (existsSync(file) && (statSync(file).mode & 0o777) !== PRIVATE_FILE_MODE) chmodSync(file, PRIVATE_FILE_MODE)
}
