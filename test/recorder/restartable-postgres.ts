/**
 * An embedded Postgres server this test controls: it can be stopped and started again on the same
 * port and data, to play a database outage. (The shared test server of test/helpers/postgres.ts has
 * no stop/start, on purpose.)
 */
import { startEmbeddedPostgres } from '../helpers/embedded-postgres.js'

export interface RestartablePostgres {
  url: string
  stop(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const server = await startEmbeddedPostgres()
  return { url: server.urlFor('postgres'), stop: server.stop, start: server.start, destroy: server.destroy }
}
