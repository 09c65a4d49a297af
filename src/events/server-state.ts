import type { EventLog } from './log.js'

// The events route reads the log from the server, as other routes read the services.
declare module '@hapi/hapi' {
  interface ServerApplicationState {
    events: EventLog
  }
}
