import pino from 'pino'
import { createKronus } from '../../app.js'
import { loadConfig } from '../../config/load.js'
import type { CliPlugins } from '../plugins.js'

/** The options of `kronus user create`. */
export interface UserCreateFlags {
  admin?: boolean
  firstName: string
  lastName: string
  email: string
  phoneNumber: string
  config?: string
  dev?: boolean
}

/** Reads a line from a terminal without showing it (raw mode: nothing is echoed); Ctrl-C cancels. */
export function promptHidden(
  question: string,
  input: NodeJS.ReadStream,
  output: NodeJS.WritableStream
): Promise<string> {
  output.write(question)
  input.setRawMode(true)
  input.setEncoding('utf8')
  input.resume()
  return new Promise((resolve, reject) => {
    let value = ''
    const finish = () => {
      input.off('data', onData)
      input.setRawMode(false)
      input.pause()
      output.write('\n')
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish()
          resolve(value)
          return
        }
        if (ch === '\u0003' || ch === '\u0004') {
          finish()
          reject(new Error('cancelled'))
          return
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    input.on('data', onData)
  })
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of input) text += chunk.toString()
  return text
}

/**
 * The password from a prompt on a terminal (asked twice, not echoed), or else the whole of
 * stdin without its final line break, so `echo`, a file and a secret manager all work.
 */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await promptHidden('Password: ', process.stdin, process.stderr)
    const again = await promptHidden('Password again: ', process.stdin, process.stderr)
    if (first !== again) throw new Error('the two passwords differ; nothing was created')
    return first
  }
  return (await readAll(process.stdin)).replace(/\r?\n$/, '')
}

/**
 * `kronus user create --admin`: the first admin, made through the very route and service
 * of the REST sign-up (POST /v1/users without a token), so the same field and password
 * rules apply and two first sign-ups at once still make one admin.
 */
export async function createFirstAdmin(flags: UserCreateFlags, impliedPlugins: CliPlugins['implied']): Promise<void> {
  if (!flags.admin) {
    throw new Error('only the first admin is created here (--admin); the admin creates other users with POST /v1/users')
  }
  const config = await loadConfig({ file: flags.config, dev: flags.dev === true, cwd: process.cwd(), env: process.env })
  // Warnings and errors only, on stderr: stdout is this command's answer.
  const logger = pino({ level: 'warn' }, pino.destination(2))
  const kronus = await createKronus({
    config: { ...config, plugins: [...config.plugins, ...impliedPlugins(config)] },
    logger,
    documentation: false
  })
  try {
    if (await kronus.services.users.anyExists()) {
      throw new Error(
        'users exist already, so there is an admin: log in as the admin and create users with POST /v1/users'
      )
    }
    const password = await readPassword()
    const res = await kronus.server.inject({
      method: 'POST',
      url: '/v1/users',
      payload: {
        first_name: flags.firstName,
        last_name: flags.lastName,
        email: flags.email,
        phone_number: flags.phoneNumber,
        password
      }
    })
    const body = JSON.parse(res.payload) as { data?: { id: number; email: string }; errors?: string[] }
    if (res.statusCode === 401)
      throw new Error('someone signed up first, so there is an admin already; nothing was created')
    if (res.statusCode !== 201 || !body.data) {
      throw new Error(`nothing was created: ${(body.errors ?? [`status ${res.statusCode}`]).join('; ')}`)
    }
    process.stdout.write(`created admin ${body.data.email} (user ${body.data.id})\n`)
  } finally {
    await kronus.stop()
  }
}
