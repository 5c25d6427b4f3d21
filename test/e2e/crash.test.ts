/**
 * SIGKILL loses nothing that was answered: `sessiontap serve` on DATABASE_URL takes exchanges while
 * Postgres is down (so every turn is still waiting in memory), is killed with SIGKILL, and a second
 * process on the same data dir records them all, exactly once, from its crash journal.
 */
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/run.js'
import { type ServeProcess, startServe, waitForCounter } from '../helpers/serve-process.js'
import { type RestartablePostgres, startRestartablePostgres } from '../recorder/restartable-postgres.js'

const CASES = path.resolve(import.meta.dirname, '../fixtures/cases')
const ROUNDS = 3

describe('serve killed with SIGKILL while Postgres is down', () => {
  let db: RestartablePostgres
  const children: ServeProcess[] = []
  beforeAll(async () => {
    db = await startRestartablePostgres()
  })
  afterAll(async () => {
    for (const c of children) c.child.kill('SIGKILL')
    await db?.destroy()
  })

  it('records every answered exchange after the restart, once', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-crash-'))
    const env = { DATABASE_URL: db.url, SESSIONTAP_DATA_DIR: dataDir }
    const first = startServe(env)
    children.push(first)
    const { grpc } = await first.addresses
    await db.stop()
    const counts: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const out: string[] = []
      const code = await run(['replay', CASES, '--target', grpc, '--fresh-ids', '--json'], {}, (s) =>
        out.push(s),
      )
      expect(code).toBe(0)
      counts.push(Number(JSON.parse(out.join('\n')).exchanges))
    }
    const sent = counts.reduce((n, count) => n + count, 0)
    expect(sent).toBe(4 * ROUNDS)
    // Past the journal's 100 ms sync, then the kill: nothing could reach Postgres in between.
    await new Promise((resolve) => setTimeout(resolve, 500))
    first.child.kill('SIGKILL')
    await first.exited

    await db.start()
    const second = startServe(env)
    children.push(second)
    const { http } = await second.addresses
    expect(await waitForCounter(http, 'sessiontap_recorder_journal_replayed_total', sent)).toBe(sent)
    expect(await waitForCounter(http, 'sessiontap_recorder_committed_total', sent)).toBe(sent)
    const client = new pg.Client(db.url)
    await client.connect()
    try {
      const { rows } = await client.query<{ n: string; distinct_ids: string }>(
        'SELECT count(*) AS n, count(DISTINCT request_id) AS distinct_ids FROM turns',
      )
      expect(rows[0]).toEqual({ n: String(sent), distinct_ids: String(sent) })
    } finally {
      await client.end()
    }
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })
})
