/**
 * The group-commit contract (store.ingestBatch), registered per driver beside the store contract: a
 * batch leaves exactly the rows that committing its turns one by one in queue order would.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Turn } from '../../src/session/turn.js'
import type { Store } from '../../src/store/store.js'
import type { StoreHandle } from './store.contract.js'
import { at, chain, makeTurn } from './turn-factory.js'

/** Session columns a batch must leave as sequential commits do (ids aside). */
const SESSION_COLUMNS = `harness_session_id, parent_session_id IS NOT NULL AS has_parent, is_placeholder, name, cwd,
  harness_metadata, started_at, last_seen_at, ended_at, end_reason, turn_count, error_count,
  total_input_tokens::float8 AS input, total_output_tokens::float8 AS output, total_cost_usd::float8 AS cost,
  last_model, loop_strikes, loop_detected_at`

/** The same turns again in another org, under fresh request ids. */
function inOrg(turns: Turn[], orgId: string): Turn[] {
  const ids = new Map<string, string>()
  return turns.map((turn) => {
    if (!ids.has(turn.requestId)) ids.set(turn.requestId, randomUUID())
    return { ...turn, requestId: ids.get(turn.requestId)!, envelope: { ...turn.envelope, orgId } }
  })
}

/** Two interleaved sessions (one a fork of the other), an end header, error turns and a loop. */
function mixedTurns(orgId: string): Turn[] {
  const main = { orgId, harnessSessionId: 'main' }
  const fork = {
    orgId,
    harnessSessionId: 'fork',
    parent: { harnessId: 'claude-code', harnessSessionId: 'main' },
  }
  const turns: Turn[] = []
  for (let i = 0; i < 6; i++) {
    turns.push(
      makeTurn({
        envelope: { ...main, name: i === 2 ? 'renamed' : null, harnessMetadata: { step: i } },
        startedAt: at(10 + i),
        nodes: chain(['shared prompt', `main question ${i}`]),
        statusCode: i === 3 ? 529 : 200,
        loopHash: i >= 2 ? 'same-call' : 'call-' + i,
        responseModel: `model-${i}`,
      }),
    )
    turns.push(
      makeTurn({
        envelope: { ...fork, endSession: i === 1 },
        // Turn 2 of the fork is a late retry from before the end: it must not reopen the session.
        startedAt: at(i === 2 ? 5 : 10 + i),
        nodes: chain(['shared prompt', `fork question ${i}`]),
        costUsd: 0.5,
      }),
    )
  }
  return turns
}

export function registerBatchContract(driverName: string, open: () => Promise<StoreHandle>): void {
  describe(`store.ingestBatch (${driverName})`, () => {
    let handle: StoreHandle
    const store = (): Store => handle.store

    beforeAll(async () => {
      handle = await open()
    })
    afterAll(async () => {
      await handle?.cleanup()
    })

    async function sessionRows(orgId: string): Promise<Record<string, unknown>[]> {
      const { rows } = await store().driver.query(
        `SELECT ${SESSION_COLUMNS} FROM sessions WHERE org_id = $1 ORDER BY harness_session_id`,
        [orgId],
      )
      return rows
    }

    async function turnRows(orgId: string): Promise<Array<{ session: string; turn_index: number }>> {
      const { rows } = await store().driver.query<{ session: string; turn_index: number }>(
        `SELECT s.harness_session_id AS session, t.turn_index FROM turns t JOIN sessions s ON s.id = t.session_id
         WHERE t.org_id = $1 ORDER BY t.started_at, s.harness_session_id`,
        [orgId],
      )
      return rows
    }

    it('leaves the rows sequential commits leave: gapless indexes per session, exact counters, ends, loops', async () => {
      const sequentialOrg = randomUUID()
      const batchOrg = randomUUID()
      const sequential = mixedTurns(sequentialOrg)
      for (const turn of sequential) await store().ingest(turn)
      const batch = inOrg(sequential, batchOrg)
      const results = await store().ingestBatch(batch.map((turn) => ({ turn })))

      expect(results.every((r) => r.inserted)).toBe(true)
      // Results in input order; each session numbered 0..5 in queue order.
      expect(results.map((r) => r.turnIndex)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
      expect(results.filter((r) => r.loopDetected)).toHaveLength(1)
      const batchSessions = await sessionRows(batchOrg)
      expect(batchSessions).toEqual(await sessionRows(sequentialOrg))
      expect(batchSessions.find((row) => row.harness_session_id === 'main')).toMatchObject({
        turn_count: 6,
        error_count: 1,
        name: 'renamed',
        harness_metadata: { step: 5 },
        last_model: 'model-5',
      })
      expect(batchSessions.find((row) => row.harness_session_id === 'fork')).toMatchObject({
        turn_count: 6,
        cost: 3,
        has_parent: true,
      })
      expect(await turnRows(batchOrg)).toEqual(await turnRows(sequentialOrg))
      const { rows: nodes } = await store().driver.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM nodes WHERE org_id = $1',
        [batchOrg],
      )
      expect(nodes[0]!.n).toBe(13)
    })

    it('answers a request id repeated in the batch and one committed before with the original ids', async () => {
      const orgId = randomUUID()
      const earlier = makeTurn({ envelope: { orgId }, startedAt: at(1) })
      const original = await store().ingest(earlier)
      const fresh = makeTurn({ envelope: { orgId }, startedAt: at(2) })
      const results = await store().ingestBatch([
        { turn: fresh },
        { turn: earlier },
        { turn: { ...fresh, startedAt: at(3) } },
        { turn: makeTurn({ envelope: { orgId }, startedAt: at(4) }) },
      ])
      expect(results.map((r) => r.inserted)).toEqual([true, false, false, true])
      expect(results[1]).toMatchObject({ turnId: original.turnId, turnIndex: 0 })
      expect(results[2]).toMatchObject({ turnId: results[0]!.turnId, turnIndex: 1 })
      expect(results[3]!.turnIndex).toBe(2)
      // The repeat in the batch (a later start) is dropped: it moves no time and no counter.
      const lastSeen = new Date(at(4).getTime() + 1200)
      expect(await sessionRows(orgId)).toMatchObject([{ turn_count: 3, input: 300, last_seen_at: lastSeen }])

      // The whole batch again: nothing changes.
      const again = await store().ingestBatch([{ turn: fresh }, { turn: earlier }])
      expect(again.map((r) => [r.inserted, r.turnId])).toEqual([
        [false, results[0]!.turnId],
        [false, original.turnId],
      ])
      expect(await sessionRows(orgId)).toMatchObject([{ turn_count: 3 }])
    })

    it('commits nothing of a batch with a turn the database rejects for good', async () => {
      const orgId = randomUUID()
      const good = makeTurn({ envelope: { orgId } })
      // Postgres refuses a non-UUID org id (22P02): a permanent error.
      const bad = makeTurn({ envelope: { orgId: 'not-a-uuid' } })
      await expect(store().ingestBatch([{ turn: good }, { turn: bad }])).rejects.toMatchObject({
        code: '22P02',
      })
      expect(await sessionRows(orgId)).toEqual([])
      expect((await store().ingest(good)).inserted).toBe(true)
    })

    it('returns nothing for an empty batch', async () => {
      expect(await store().ingestBatch([])).toEqual([])
    })
  })
}
