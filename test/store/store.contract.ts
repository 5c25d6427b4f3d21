/**
 * The store contract, registered once per driver (real Postgres and PGlite) so both behave the
 * same. Each test uses its own random org, so tests share one database without seeing each other.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/store.js'
import { at, chain, makeTurn } from './turn-factory.js'

export interface StoreHandle {
  store: Store
  cleanup(): Promise<void>
}

interface SessionRow {
  id: string
  harness_id: string
  harness_session_id: string
  auth_subject: string | null
  name: string | null
  cwd: string | null
  harness_version: string | null
  parent_session_id: string | null
  is_placeholder: boolean
  harness_metadata: Record<string, unknown>
  started_at: Date
  last_seen_at: Date
  ended_at: Date | null
  end_reason: string | null
  turn_count: number
  error_count: number
  total_input_tokens: number
  total_output_tokens: number
  total_cache_read_tokens: number
  total_cache_creation_tokens: number
  total_reasoning_tokens: number
  total_cost_usd: number
  last_model: string | null
}

export function registerStoreContract(driverName: string, open: () => Promise<StoreHandle>): void {
  describe(`store contract (${driverName})`, () => {
    let handle: StoreHandle
    const store = (): Store => handle.store

    beforeAll(async () => {
      handle = await open()
    })
    afterAll(async () => {
      await handle?.cleanup()
    })

    async function sessions(orgId: string): Promise<SessionRow[]> {
      const { rows } = await store().driver.query<SessionRow>(
        `SELECT *, total_cost_usd::float8 AS total_cost_usd, total_input_tokens::float8 AS total_input_tokens,
                total_output_tokens::float8 AS total_output_tokens,
                total_cache_read_tokens::float8 AS total_cache_read_tokens,
                total_cache_creation_tokens::float8 AS total_cache_creation_tokens,
                total_reasoning_tokens::float8 AS total_reasoning_tokens
         FROM sessions WHERE org_id = $1 ORDER BY started_at, harness_id`,
        [orgId],
      )
      return rows
    }

    async function session(orgId: string, harnessSessionId = 'session-1'): Promise<SessionRow> {
      const found = (await sessions(orgId)).find((row) => row.harness_session_id === harnessSessionId)
      if (!found) throw new Error(`no session ${harnessSessionId}`)
      return found
    }

    async function count(table: 'nodes' | 'turns' | 'sessions', orgId: string): Promise<number> {
      const { rows } = await store().driver.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE org_id = $1`,
        [orgId],
      )
      return rows[0]!.n
    }

    it('commits a turn: session, nodes and turn rows', async () => {
      const turn = makeTurn({ usage: { ...makeTurn().usage, reasoningTokens: null } })
      const result = await store().ingest(turn)
      expect(result).toMatchObject({ turnIndex: 0, inserted: true })
      const row = await session(turn.envelope.orgId)
      expect(row).toMatchObject({
        id: result.sessionId,
        harness_id: 'claude-code',
        name: 'fix the bug',
        is_placeholder: false,
        turn_count: 1,
        started_at: turn.startedAt,
        last_seen_at: new Date(turn.startedAt.getTime() + 1200),
        last_model: 'claude-sonnet-4-5-20250929',
      })
      expect(await count('nodes', turn.envelope.orgId)).toBe(2)
      const { rows } = await store().driver.query<Record<string, unknown>>(
        'SELECT * FROM turns WHERE org_id = $1 AND id = $2',
        [turn.envelope.orgId, result.turnId],
      )
      expect(rows[0]).toMatchObject({
        session_id: result.sessionId,
        request_id: turn.requestId,
        turn_index: 0,
        usage_status: 'reported',
        reasoning_tokens: null,
        request_leaf_hash: turn.nodes[0]!.hash,
        response_hash: turn.nodes[1]!.hash,
      })
      expect(Number(rows[0]!.input_tokens)).toBe(100)
    })

    it('re-committing the same request changes nothing and returns the original ids', async () => {
      const turn = makeTurn()
      const first = await store().ingest(turn)
      const before = await session(turn.envelope.orgId)
      // A retry may carry different timings; the first commit still wins.
      const again = await store().ingest({
        ...turn,
        startedAt: at(50),
        envelope: { ...turn.envelope, name: 'other' },
      })
      expect(again).toEqual({ ...first, inserted: false })
      expect(await session(turn.envelope.orgId)).toEqual(before)
      expect(await count('turns', turn.envelope.orgId)).toBe(1)
      expect(await count('nodes', turn.envelope.orgId)).toBe(2)
    })

    it('commits a request sent concurrently several times exactly once', async () => {
      const turn = makeTurn()
      const results = await Promise.all(Array.from({ length: 6 }, () => store().ingest(turn)))
      expect(results.filter((r) => r.inserted)).toHaveLength(1)
      const { sessionId, turnId, turnIndex } = results.find((r) => r.inserted)!
      for (const result of results) expect(result).toMatchObject({ sessionId, turnId, turnIndex })
      expect(await count('turns', turn.envelope.orgId)).toBe(1)
      expect((await session(turn.envelope.orgId)).turn_count).toBe(1)
    })

    it('keeps exact counters and a gapless turn_index', async () => {
      const orgId = randomUUID()
      const envelope = { orgId }
      const usage = (input: number | null, output: number | null, reasoning: number | null) => ({
        inputTokens: input,
        outputTokens: output,
        cacheReadTokens: input === null ? null : 5,
        cacheCreationTokens: 1,
        reasoningTokens: reasoning,
        status: 'reported' as const,
      })
      const turns = [
        makeTurn({ envelope, startedAt: at(1), usage: usage(100, 10, 3), costUsd: 0.25 }),
        makeTurn({
          envelope,
          startedAt: at(2),
          usage: usage(null, null, null),
          costUsd: null,
          statusCode: 500,
        }),
        makeTurn({
          envelope,
          startedAt: at(3),
          usage: usage(300, 30, null),
          costUsd: 0.125,
          statusCode: null,
        }),
        makeTurn({
          envelope,
          startedAt: at(4),
          usage: usage(7, 0, 0),
          costUsd: 0.0000001,
          errorType: 'overloaded_error',
          responseModel: 'claude-opus-4-1',
        }),
      ]
      const results = []
      for (const turn of turns) results.push(await store().ingest(turn))
      expect(results.map((r) => r.turnIndex)).toEqual([0, 1, 2, 3])
      expect(new Set(results.map((r) => r.sessionId)).size).toBe(1)
      expect(await session(orgId)).toMatchObject({
        turn_count: 4,
        error_count: 2,
        total_input_tokens: 407,
        total_output_tokens: 40,
        total_cache_read_tokens: 15,
        total_cache_creation_tokens: 4,
        total_reasoning_tokens: 3,
        total_cost_usd: 0.3750001,
        last_model: 'claude-opus-4-1',
      })
    })

    it('numbers concurrent turns of one session without gaps or duplicates', async () => {
      const orgId = randomUUID()
      const turns = Array.from({ length: 24 }, (_, i) =>
        makeTurn({ envelope: { orgId }, startedAt: at(i), nodes: chain(['same prefix', `answer ${i}`]) }),
      )
      const results = await Promise.all(turns.map((turn) => store().ingest(turn)))
      expect(results.map((r) => r.turnIndex).sort((a, b) => a - b)).toEqual([...Array(24).keys()])
      expect(await session(orgId)).toMatchObject({ turn_count: 24, total_input_tokens: 2400 })
      // One shared root plus 24 distinct answers.
      expect(await count('nodes', orgId)).toBe(25)
    })

    it('upserts the session: keeps known fields, merges metadata, moves times outward only', async () => {
      const orgId = randomUUID()
      await store().ingest(
        makeTurn({ envelope: { orgId, harnessMetadata: { a: 1, b: 1 } }, startedAt: at(10), latencyMs: 0 }),
      )
      await store().ingest(
        makeTurn({
          envelope: {
            orgId,
            name: null,
            cwd: '',
            harnessVersion: null,
            authSubject: null,
            harnessMetadata: { b: 2 },
          },
          startedAt: at(20),
          latencyMs: 0,
        }),
      )
      // A late turn from before both: extends started_at back, leaves last_seen_at alone.
      await store().ingest(
        makeTurn({ envelope: { orgId, harnessVersion: '2.0.2' }, startedAt: at(5), latencyMs: 0 }),
      )
      expect(await session(orgId)).toMatchObject({
        name: 'fix the bug',
        cwd: '/home/dev/project',
        harness_version: '2.0.2',
        auth_subject: 'user@example.com',
        harness_metadata: { a: 1, b: 2 },
        started_at: at(5),
        last_seen_at: at(20),
        turn_count: 3,
      })
    })

    it('links a child that arrives before its parent through one placeholder the parent then fills', async () => {
      const orgId = randomUUID()
      const parentKey = { harnessId: 'claude-code', harnessSessionId: 'parent-1' }
      const child = await store().ingest(
        makeTurn({
          envelope: {
            orgId,
            harnessId: 'codex',
            harnessSessionId: 'child-1',
            parent: parentKey,
            name: 'subagent',
          },
          startedAt: at(30),
        }),
      )
      const placeholder = await session(orgId, 'parent-1')
      expect(placeholder).toMatchObject({
        harness_id: 'claude-code',
        is_placeholder: true,
        turn_count: 0,
        name: null,
      })
      expect((await session(orgId, 'child-1')).parent_session_id).toBe(placeholder.id)

      // A second child of the same parent reuses the placeholder.
      const sibling = await store().ingest(
        makeTurn({
          envelope: { orgId, harnessId: 'codex', harnessSessionId: 'child-2', parent: parentKey },
          startedAt: at(31),
        }),
      )
      const parent = await store().ingest(
        makeTurn({ envelope: { orgId, ...parentKey, name: 'the parent' }, startedAt: at(1), latencyMs: 0 }),
      )
      expect(parent.sessionId).toBe(placeholder.id)
      expect(await count('sessions', orgId)).toBe(3)
      expect(await session(orgId, 'parent-1')).toMatchObject({
        is_placeholder: false,
        name: 'the parent',
        started_at: at(1),
        last_seen_at: at(1),
        turn_count: 1,
        auth_subject: 'user@example.com',
      })
      const children = (await sessions(orgId)).filter((row) => row.parent_session_id === placeholder.id)
      expect(children.map((row) => row.id).sort()).toEqual([child.sessionId, sibling.sessionId].sort())
    })

    it('keeps orgs apart: the same content in two orgs gives separate sessions, nodes and turns', async () => {
      const [orgA, orgB] = [randomUUID(), randomUUID()]
      const nodes = chain(['identical question', 'identical answer'])
      const requestId = randomUUID()
      const a = await store().ingest(makeTurn({ envelope: { orgId: orgA }, nodes, requestId }))
      const aBefore = await sessions(orgA)
      const b = await store().ingest(makeTurn({ envelope: { orgId: orgB }, nodes, requestId }))
      expect(b.inserted).toBe(true)
      expect(b.sessionId).not.toBe(a.sessionId)
      expect(await count('nodes', orgA)).toBe(2)
      expect(await count('nodes', orgB)).toBe(2)
      expect(await sessions(orgA)).toEqual(aBefore)
      const { rows } = await store().driver.query<{ org_id: string; session_id: string }>(
        'SELECT org_id, session_id FROM nodes WHERE hash = $1 AND org_id IN ($2, $3)',
        [nodes[0]!.hash, orgA, orgB],
      )
      expect(rows.map((row) => `${row.org_id}/${row.session_id}`).sort()).toEqual(
        [`${orgA}/${a.sessionId}`, `${orgB}/${b.sessionId}`].sort(),
      )
    })

    it('a node belongs to the first session that wrote it', async () => {
      const orgId = randomUUID()
      const shared = chain(['shared system prompt'])
      const first = await store().ingest(
        makeTurn({ envelope: { orgId, harnessSessionId: 's1' }, nodes: shared }),
      )
      await store().ingest(makeTurn({ envelope: { orgId, harnessSessionId: 's2' }, nodes: shared }))
      const { rows } = await store().driver.query<{ session_id: string }>(
        'SELECT session_id FROM nodes WHERE org_id = $1',
        [orgId],
      )
      expect(rows).toEqual([{ session_id: first.sessionId }])
      expect((await session(orgId, 's2')).turn_count).toBe(1)
    })

    it('ends a session on the client header and reopens it on a later turn only', async () => {
      const orgId = randomUUID()
      await store().ingest(
        makeTurn({ envelope: { orgId, endSession: true }, startedAt: at(10), latencyMs: 0 }),
      )
      expect(await session(orgId)).toMatchObject({ ended_at: at(10), end_reason: 'client', turn_count: 1 })
      // A delayed turn from before the end (a spooled retry) is recorded but does not reopen.
      await store().ingest(makeTurn({ envelope: { orgId }, startedAt: at(9), latencyMs: 0 }))
      expect(await session(orgId)).toMatchObject({ ended_at: at(10), end_reason: 'client', turn_count: 2 })
      await store().ingest(makeTurn({ envelope: { orgId }, startedAt: at(11), latencyMs: 0 }))
      expect(await session(orgId)).toMatchObject({ ended_at: null, end_reason: null, turn_count: 3 })
    })

    it('ends idle sessions, skips busy ones and placeholders, and a later turn reopens', async () => {
      const orgId = randomUUID()
      const now = new Date('2030-01-01T12:00:00Z')
      const minutesBefore = (m: number) => new Date(now.getTime() - m * 60_000)
      await store().ingest(
        makeTurn({
          envelope: {
            orgId,
            harnessSessionId: 'idle',
            parent: { harnessId: 'x', harnessSessionId: 'placeholder' },
          },
          startedAt: minutesBefore(45),
          latencyMs: 0,
        }),
      )
      await store().ingest(
        makeTurn({
          envelope: { orgId, harnessSessionId: 'busy' },
          startedAt: minutesBefore(5),
          latencyMs: 0,
        }),
      )
      // Other orgs' sessions may be swept too, so only this org's rows are asserted.
      expect(await store().endIdleSessions(30 * 60_000, now)).toBeGreaterThanOrEqual(1)
      expect(await session(orgId, 'idle')).toMatchObject({ end_reason: 'idle', ended_at: minutesBefore(45) })
      expect(await session(orgId, 'busy')).toMatchObject({ end_reason: null, ended_at: null })
      expect(await session(orgId, 'placeholder')).toMatchObject({ end_reason: null, is_placeholder: true })
      expect(await store().endIdleSessions(30 * 60_000, now)).toBe(0)

      await store().ingest(
        makeTurn({ envelope: { orgId, harnessSessionId: 'idle' }, startedAt: now, latencyMs: 0 }),
      )
      expect(await session(orgId, 'idle')).toMatchObject({
        end_reason: null,
        ended_at: null,
        last_seen_at: now,
      })
    })

    it('stores text Postgres would reject (NUL, lone surrogates) with U+FFFD', async () => {
      const orgId = randomUUID()
      const nodes = [
        { hash: 'h-nul', parentHash: null, role: 'user', content: { text: 'a\u0000b\ud800c', 'k\u0000': 1 } },
      ]
      await store().ingest(
        makeTurn({
          envelope: { orgId },
          nodes,
          errorMessage: 'bad\u0000byte',
          statusCode: 400,
          responseHash: null,
        }),
      )
      const { rows } = await store().driver.query<{ content: Record<string, unknown> }>(
        'SELECT content FROM nodes WHERE org_id = $1',
        [orgId],
      )
      expect(rows[0]!.content).toEqual({ text: 'a\ufffdb\ufffdc', 'k\ufffd': 1 })
      expect((await session(orgId)).error_count).toBe(1)
    })

    it('commits a turn without nodes (an error before any content)', async () => {
      const orgId = randomUUID()
      const result = await store().ingest(
        makeTurn({
          envelope: { orgId },
          nodes: [],
          requestLeafHash: null,
          responseHash: null,
          statusCode: 401,
        }),
      )
      expect(result.inserted).toBe(true)
      expect(await count('nodes', orgId)).toBe(0)
      expect((await session(orgId)).error_count).toBe(1)
    })

    it('answers ping', async () => {
      await expect(store().ping()).resolves.toBeUndefined()
    })
  })
}
