/**
 * Loop detection in the ingest transaction (embedded PGlite, the same SQL as Postgres): three
 * consecutive turns with one loop hash flag the session; two do not; a different hash resets the run.
 */
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FlaggedSessions } from '../../src/loop/flagged-sessions.js'
import { createLoopMetrics, loopCommitHook } from '../../src/loop/loop-watch.js'
import { NIL_ORG } from '../../src/session/turn.js'
import type { Store } from '../../src/store/index.js'
import { recentlyFlaggedSessions } from '../../src/store/loop-flags.js'
import { getSession } from '../../src/store/read/index.js'
import { openStore } from '../../src/store/store.js'
import { at, makeTurn } from '../store/turn-factory.js'

let dataDir: string
let store: Store

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-loop-'))
  store = await openStore({ dataDir })
})
afterAll(async () => {
  await store.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

/** Commits one turn per hash (null = an error turn), a minute apart, in one fresh session. */
async function commitRun(
  target: Store,
  hashes: Array<string | null>,
  orgId = randomUUID(),
  onCommitted?: ReturnType<typeof loopCommitHook>,
) {
  const results = []
  for (const [i, hash] of hashes.entries()) {
    const turn = makeTurn({
      envelope: { orgId, harnessSessionId: `s-${orgId}` },
      startedAt: at(i),
      loopHash: hash ?? 'E',
      ...(hash === null ? { statusCode: 529, errorType: 'overloaded_error' } : {}),
    })
    const result = await target.ingest(turn)
    onCommitted?.(turn, result)
    results.push(result)
  }
  const { rows } = await target.driver.query<{ loop_strikes: number; loop_detected_at: Date | null }>(
    'SELECT loop_strikes, loop_detected_at FROM sessions WHERE org_id = $1 AND harness_session_id = $2',
    [orgId, `s-${orgId}`],
  )
  const hashesStored = await target.driver.query<{ loop_hash: string | null }>(
    'SELECT loop_hash FROM turns WHERE org_id = $1 ORDER BY turn_index',
    [orgId],
  )
  return {
    detected: results.map((r) => r.loopDetected),
    strikes: rows[0]!.loop_strikes,
    detectedAt: rows[0]!.loop_detected_at,
    stored: hashesStored.rows.map((r) => r.loop_hash),
  }
}

describe('loop detection', () => {
  it('flags the session on the third identical consecutive hash, and only then', async () => {
    const run = await commitRun(store, ['A', 'A', 'A', 'A'])
    expect(run.detected).toEqual([false, false, true, false])
    expect(run.strikes).toBe(4)
    // The third turn was last seen at its end: started at minute 2, 1200 ms of latency.
    expect(run.detectedAt).toEqual(new Date(at(2).getTime() + 1200))
    expect(run.stored).toEqual(['A', 'A', 'A', 'A'])
    // The read side shows the flag.
    const { rows } = await store.driver.query<{ id: string; org_id: string }>(
      'SELECT id, org_id FROM sessions WHERE loop_strikes = 4 ORDER BY last_seen_at DESC LIMIT 1',
    )
    const session = await getSession(store.driver, rows[0]!.org_id, rows[0]!.id)
    expect(session?.loop).toEqual({ strikes: 4, detectedAt: new Date(at(2).getTime() + 1200).toISOString() })
  })

  it('does not flag two identical hashes', async () => {
    const run = await commitRun(store, ['A', 'A'])
    expect(run.detected).toEqual([false, false])
    expect(run.strikes).toBe(2)
    expect(run.detectedAt).toBeNull()
  })

  it('resets the run on a different hash in between', async () => {
    const run = await commitRun(store, ['A', 'A', 'B', 'A', 'A'])
    expect(run.detected.some(Boolean)).toBe(false)
    expect(run.strikes).toBe(2)
    expect(run.detectedAt).toBeNull()
  })

  it('lets an error turn (a retry) neither extend nor break the run, and stores no hash for it', async () => {
    const run = await commitRun(store, ['A', null, 'A', null, 'A'])
    expect(run.detected).toEqual([false, false, false, false, true])
    expect(run.stored).toEqual(['A', null, 'A', null, 'A'])
  })

  it('detects nothing when the same request is committed again', async () => {
    const orgId = randomUUID()
    const turn = () => makeTurn({ envelope: { orgId }, loopHash: 'A' })
    await store.ingest(turn())
    await store.ingest(turn())
    const third = turn()
    expect((await store.ingest(third)).loopDetected).toBe(true)
    expect(await store.ingest(third)).toMatchObject({ inserted: false, loopDetected: false })
  })

  it('counts each detection once, flags the session for the gate, and reloads flags from the database', async () => {
    const registry = new Registry()
    const flagged = new FlaggedSessions()
    const hook = loopCommitHook(flagged, createLoopMetrics(registry))
    const orgId = randomUUID()
    await commitRun(store, ['A', 'A', 'A', 'A', 'A'], orgId, hook)
    const metric = await registry.getSingleMetricAsString('sessiontap_loop_detections_total')
    expect(metric).toMatch(/sessiontap_loop_detections_total 1$/m)
    const key = { orgId, harnessId: 'claude-code', harnessSessionId: `s-${orgId}` }
    expect(flagged.has(key)).toBe(true)
    // The same session id in another org is another session: not gated.
    expect(flagged.has({ ...key, orgId: randomUUID() })).toBe(false)

    const reloaded = new FlaggedSessions()
    const keys = await recentlyFlaggedSessions(store.driver, reloaded.capacity)
    expect(keys.length).toBeGreaterThanOrEqual(1)
    for (const k of keys) reloaded.add(k)
    expect(reloaded.has(key)).toBe(true)
    expect(reloaded.has({ orgId, harnessId: 'claude-code', harnessSessionId: 'never-looped' })).toBe(false)
    expect(reloaded.has({ ...key, orgId: randomUUID() })).toBe(false)
  })
})

describe('FlaggedSessions', () => {
  it('keeps at most its capacity, forgetting the oldest flag first', () => {
    const flagged = new FlaggedSessions(2)
    const key = (id: string) => ({ orgId: NIL_ORG, harnessId: 'h', harnessSessionId: id })
    flagged.add(key('1'))
    flagged.add(key('2'))
    flagged.add(key('1')) // refreshed: now the youngest
    flagged.add(key('3'))
    expect(flagged.size).toBe(2)
    expect(flagged.has(key('1'))).toBe(true)
    expect(flagged.has(key('2'))).toBe(false)
    expect(flagged.has(key('3'))).toBe(true)
  })
})
