/**
 * Many writer PROCESSES on one session of a real Postgres: turn_index stays unique and gapless
 * and the counters exact, with idempotent re-commits mixed in.
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
): Promise<{ inserted: number; duplicates: number }> {
  const script = path.join(import.meta.dirname, 'concurrent-writer.ts')
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, url, orgId, String(workerId), String(TURNS_PER_WRITER)],
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
    const results = await Promise.all(Array.from({ length: WRITERS }, (_, w) => runWriter(pg.url, orgId, w)))
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
})
