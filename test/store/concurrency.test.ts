/**
 * Many writer PROCESSES on shared sessions of a real Postgres, one turn per transaction or in
 * batches: turn_index stays unique and gapless and the counters exact, with idempotent re-commits
 * mixed in, and batches locking overlapping sessions never deadlock.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../src/store/store.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'

const WRITERS = 8
const TURNS_PER_WRITER = 200

function runWriter(
  url: string,
  orgId: string,
  workerId: number,
  mode: 'single' | 'batch',
): Promise<{ inserted: number; duplicates: number }> {
  const script = path.join(import.meta.dirname, 'concurrent-writer.ts')
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, url, orgId, String(workerId), String(TURNS_PER_WRITER), mode],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
  })
  child.stderr.on('data', (chunk) => {
    err += chunk
  })
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').at(-1)!))
      else reject(new Error(`writer ${workerId} exited with ${code}: ${err}`))
    })
  })
}

describe('concurrent writer processes on one session (Postgres)', () => {
  let pg: TestPostgres
  let store: Store

  beforeAll(async () => {
    pg = await startTestPostgres()
    store = await openStore({ databaseUrl: pg.url, dataDir: 'unused' })
  })
  afterAll(async () => {
    await store?.close()
    await pg?.stop()
  })

  it(`${WRITERS} processes x ${TURNS_PER_WRITER} turns: gapless turn_index and exact counters`, async () => {
    const orgId = randomUUID()
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, w) => runWriter(pg.url, orgId, w, 'single')),
    )
    const total = WRITERS * TURNS_PER_WRITER
    expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(total)
    expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(WRITERS * Math.ceil(TURNS_PER_WRITER / 25))

    const { rows: indexes } = await store.driver.query<{ turn_index: number }>(
      'SELECT turn_index FROM turns WHERE org_id = $1 ORDER BY turn_index',
      [orgId],
    )
    expect(indexes.map((row) => row.turn_index)).toEqual([...Array(total).keys()])

    const { rows } = await store.driver.query<Record<string, string | number>>(
      `SELECT count(*) OVER () AS sessions, turn_count, error_count, total_input_tokens, total_output_tokens,
              total_cache_read_tokens, total_cache_creation_tokens, total_cost_usd
       FROM sessions WHERE org_id = $1`,
      [orgId],
    )
    expect(rows).toHaveLength(1)
    const row = rows[0]!
    expect(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]))).toEqual({
      sessions: 1,
      turn_count: total,
      error_count: WRITERS * (TURNS_PER_WRITER / 10),
      total_input_tokens: 3 * total,
      total_output_tokens: 2 * total,
      total_cache_read_tokens: total,
      total_cache_creation_tokens: 0,
      total_cost_usd: 0.001 * total,
    })
    const { rows: nodes } = await store.driver.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM nodes WHERE org_id = $1',
      [orgId],
    )
    expect(nodes[0]!.n).toBe(total + 1)
  })
  it(`${WRITERS} processes x ${TURNS_PER_WRITER} turns in batches over 3 shared sessions: no deadlock, exact results`, async () => {
    const orgId = randomUUID()
    const deadlocks = async () => {
      const { rows } = await store.driver.query<{ n: string }>(
        'SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()',
      )
      return Number(rows[0]!.n)
    }
    const deadlocksBefore = await deadlocks()
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, w) => runWriter(pg.url, orgId, w, 'batch')),
    )
    const total = WRITERS * TURNS_PER_WRITER
    const batches = TURNS_PER_WRITER / 10
    expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(total)
    // Per batch one repeat of its own first turn, and from the second batch on one of the batch before.
    expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(WRITERS * (2 * batches - 1))

    const { rows: sessions } = await store.driver.query<Record<string, string | number>>(
      `SELECT s.harness_session_id, s.turn_count, s.error_count, s.total_input_tokens, s.total_cost_usd,
              count(t.id) AS turns, min(t.turn_index) AS first, max(t.turn_index) AS last,
              count(DISTINCT t.turn_index) AS distinct_indexes
       FROM sessions s JOIN turns t ON t.session_id = s.id
       WHERE s.org_id = $1 GROUP BY s.id ORDER BY s.harness_session_id`,
      [orgId],
    )
    expect(sessions.map((row) => row.harness_session_id)).toEqual(['shared-a', 'shared-b', 'shared-c'])
    let sum = 0
    for (const row of sessions) {
      const n = Number(row.turns)
      sum += n
      // Gapless and unique: n distinct indexes from 0 to n - 1, and the counters agree.
      expect([Number(row.first), Number(row.last), Number(row.distinct_indexes)]).toEqual([0, n - 1, n])
      expect([Number(row.turn_count), Number(row.total_input_tokens), Number(row.total_cost_usd)]).toEqual([
        n,
        3 * n,
        0.001 * n,
      ])
    }
    expect(sum).toBe(total)
    expect(sessions.reduce((errors, row) => errors + Number(row.error_count), 0)).toBe(
      WRITERS * (TURNS_PER_WRITER / 10),
    )
    const { rows: nodes } = await store.driver.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM nodes WHERE org_id = $1',
      [orgId],
    )
    expect(nodes[0]!.n).toBe(total + 1)
    expect(await deadlocks()).toBe(deadlocksBefore)
  })
})
