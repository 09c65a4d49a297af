import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A webhook receiver on loopback that records every request and answers as a test scripts it. */

export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/** Answers one request; `hang` leaves it unanswered (until the receiver closes). */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang'

export interface Receiver {
  /** http://127.0.0.1:<port> */
  origin: string
  port: number
  requests: ReceivedRequest[]
  /** Decides the answer to each request; 200 when unset. */
  respond: (request: ReceivedRequest, index: number) => Answer
  close(): Promise<void>
}

interface Tap {
  teardown(fn: () => unknown): void
}

export async function startReceiver(t: Tap): Promise<Receiver> {
  const hanging: ServerResponse[] = []
  const receiver: Receiver = {
    origin: '',
    port: 0,
    requests: [],
    respond: () => ({ status: 200, body: 'ok' }),
    close: async () => {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8')
      }
      receiver.requests.push(request)
      const answer = receiver.respond(request, receiver.requests.length - 1)
      if (answer === 'hang') {
        hanging.push(res)
        return
      }
      res.writeHead(answer.status, answer.headers ?? { 'content-type': 'text/plain' })
      res.end(answer.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  receiver.port = (server.address() as AddressInfo).port
  receiver.origin = `http://127.0.0.1:${receiver.port}`
  t.teardown(() => receiver.close())
  return receiver
}
