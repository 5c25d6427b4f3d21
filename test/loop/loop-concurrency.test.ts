/**
 * Loop detection under concurrent commits on real Postgres: turns of one session committed at once
 * are serialized by the session row lock, so the run counts every turn and is detected exactly once.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Store } from '../../src/store/index.js'
import { openStore } from '../../src/store/store.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { at, makeTurn } from '../store/turn-factory.js'

let pg: TestPostgres
let store: Store

beforeAll(async () => {
  pg = await startTestPostgres()
  store = await openStore({ databaseUrl: pg.url, dataDir: 'unused', poolSize: 8 })
})
afterAll(async () => {
  await store.close()
  await pg.stop()
})

it('detects a run committed by eight concurrent writers exactly once', async () => {
  const orgId = randomUUID()
  const turns = Array.from({ length: 8 }, (_, i) =>
    makeTurn({ envelope: { orgId, harnessSessionId: 'busy' }, startedAt: at(i), loopHash: 'same' }),
  )
  const results = await Promise.all(turns.map((turn) => store.ingest(turn)))
  expect(results.filter((r) => r.loopDetected)).toHaveLength(1)
  // The detecting turn is the third in commit order, whatever order the writers got the lock in.
  expect(results.find((r) => r.loopDetected)?.turnIndex).toBe(2)
  const { rows } = await store.driver.query<{ loop_strikes: number; detected: boolean }>(
    'SELECT loop_strikes, loop_detected_at IS NOT NULL AS detected FROM sessions WHERE org_id = $1',
    [orgId],
  )
  expect(rows).toEqual([{ loop_strikes: 8, detected: true }])
})
