/**
 * An embedded Postgres server this test controls: it can be stopped and started again on the same
 * port and data, to play a database outage. (test/helpers/postgres.ts shares one server per process
 * and has no stop/start, on purpose.)
 */
import fs from 'node:fs'
import { startEmbeddedPostgres } from '../helpers/postgres.js'

export interface RestartablePostgres {
  url: string
  stop(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  // persistent: stop() must keep the data so start() brings the same database back.
  const { server, root, urlFor } = await startEmbeddedPostgres({ persistent: true })
  return {
    url: urlFor('postgres'),
    stop: () => server.stop(),
    start: () => server.start(),
    async destroy() {
      await server.stop()
      fs.rmSync(root, { recursive: true, force: true })
    },
  }
}
