/**
 * Real Postgres for tests and benchmarks. Each startTestPostgres() call returns a FRESH, empty database
 * of its own, created on one shared server:
 *   - TEST_DATABASE_URL set: that server (databases are created on it and dropped afterwards);
 *   - under vitest: the server test/global-postgres.ts started once for the whole run and shares with
 *     every worker (or the one line saying why it could not start, so Postgres suites fail at once);
 *   - elsewhere (benchmarks): Testcontainers (postgres:17-alpine) when a container runtime answers,
 *     else embedded Postgres (test/helpers/embedded-postgres.ts), stopped with its last database.
 * Why: a server costs ~1 s (initdb + start) while CREATE DATABASE costs ~0.1 s, so one server and one
 * database per suite keeps suites isolated and cheap.
 */
import pg from 'pg'
import { startEmbeddedPostgres } from './embedded-postgres.js'

export { PostgresUnavailable, startEmbeddedPostgres } from './embedded-postgres.js'

export interface TestPostgres {
  /** Connection URL of a fresh database of its own. */
  url: string
  /** Drops the database (and stops the server when this process started it and it was the last one). */
  stop(): Promise<void>
}

export interface Server {
  /** Connection URL of the named database on this server. */
  urlFor(database: string): string
  /** What it is, for the log. */
  source: string
  stop(): Promise<void>
}

/** What the vitest global setup hands to the workers: a server's maintenance URL, or why there is none. */
export type SharedPostgres = { url: string; source: string } | { error: string }

declare module 'vitest' {
  export interface ProvidedContext {
    testPostgres: SharedPostgres
  }
}

export function externalServer(url: string, source: string): Server {
  return {
    urlFor(database) {
      const parsed = new URL(url)
      parsed.pathname = `/${database}`
      return parsed.toString()
    },
    source,
    async stop() {},
  }
}

async function containerServer(): Promise<Server | null> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers')
  try {
    await getContainerRuntimeClient()
  } catch {
    return null
  }
  const container = await new GenericContainer('postgres:17-alpine')
    .withEnvironment({ POSTGRES_PASSWORD: 'test' })
    .withExposedPorts(5432)
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=300'])
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start()
  const host = container.getHost()
  const port = container.getMappedPort(5432)
  return {
    urlFor: (database) => `postgres://postgres:test@${host}:${port}/${database}`,
    source: 'Testcontainers postgres:17-alpine',
    stop: async () => {
      await container.stop()
    },
  }
}

/** A server of this process's own: a container when a runtime answers, else embedded Postgres. */
export async function startOwnServer(): Promise<Server> {
  const container = await containerServer()
  if (container) return container
  const embedded = await startEmbeddedPostgres()
  return { urlFor: embedded.urlFor, source: embedded.source, stop: embedded.destroy }
}

/** The server vitest's global setup shares, when running under vitest with it. */
async function sharedByVitest(): Promise<Server | null> {
  if (!process.env.VITEST) return null
  const { inject } = await import('vitest')
  const shared: SharedPostgres | undefined = inject('testPostgres')
  if (!shared) return null
  if ('error' in shared) throw new Error(shared.error)
  return externalServer(shared.url, shared.source)
}

let own: { server: Promise<Server>; users: number } | null = null

async function acquireServer(): Promise<Server> {
  const fromEnv = process.env.TEST_DATABASE_URL
  if (fromEnv) return externalServer(fromEnv, 'TEST_DATABASE_URL')
  const shared = await sharedByVitest()
  if (shared) return shared
  if (!own) own = { server: startOwnServer(), users: 0 }
  own.users++
  try {
    return await own.server
  } catch (err) {
    own = null
    throw err
  }
}

async function releaseServer(server: Server): Promise<void> {
  if (!own || (await own.server) !== server) return
  own.users--
  if (own.users > 0) return
  own = null
  await server.stop()
}

async function onMaintenanceDb<T>(server: Server, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server.urlFor('postgres') })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const server = await acquireServer()
  const database = `sessiontap_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  try {
    await onMaintenanceDb(server, (client) => client.query(`CREATE DATABASE ${database}`))
  } catch (err) {
    await releaseServer(server)
    throw err
  }
  return {
    url: server.urlFor(database),
    async stop() {
      try {
        await onMaintenanceDb(server, (client) =>
          client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
        )
      } finally {
        await releaseServer(server)
      }
    },
  }
}
