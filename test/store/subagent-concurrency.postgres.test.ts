/**
 * Subagent calls and their parents committed by two stores (two sidecars) on one Postgres: a child
 * ingested while its parent's transaction is open waits for it and joins; one whose transaction
 * began first keeps its own session (and is not moved later); concurrent pairs never fail or
 * deadlock, and every child is either joined or alone.
 */
import { randomUUID } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Turn } from '../../src/session/turn.js'
import { ingestTurnsInTransaction } from '../../src/store/ingest.js'
import { storableJson } from '../../src/store/pg-text.js'
import { openStore, type Store } from '../../src/store/store.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { fixtureCalls } from '../helpers/subagent-calls.js'

describe('subagent calls across two sidecars (Postgres)', () => {
  let pg: TestPostgres
  let a: Store
  let b: Store

  beforeAll(async () => {
    pg = await startTestPostgres()
    a = await openStore({ databaseUrl: pg.url, dataDir: 'unused' })
    b = await openStore({ databaseUrl: pg.url, dataDir: 'unused' })
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await pg?.stop()
  })

  async function threadOf(orgId: string, requestId: string) {
    const { rows } = await a.driver.query<{ session_id: string; thread_id: string | null }>(
      'SELECT session_id, thread_id FROM turns WHERE org_id = $1 AND request_id = $2',
      [orgId, requestId],
    )
    return rows[0]
  }

  const inTransaction = (store: Store, turn: Turn, during: () => Promise<void>) =>
    store.driver.transaction(async (tx) => {
      const [result] = await ingestTurnsInTransaction(
        tx,
        [{ turn, nodes: storableJson(turn.nodes) }],
        uuidv7,
        {
          lookupFirst: false,
          binary: false,
        },
      )
      await during()
      return result!
    })

  it('a child ingested while the parent transaction is open waits for its commit, then joins it', async () => {
    const orgId = randomUUID()
    const { parent, child } = fixtureCalls({ orgId })
    let childDone = false
    let pending: Promise<Awaited<ReturnType<Store['ingest']>>> | undefined
    const parentResult = await inTransaction(a, parent, async () => {
      pending = b.ingest(child).finally(() => {
        childDone = true
      })
      await new Promise((resolve) => setTimeout(resolve, 300))
      // The parent holds its spawn prompt's lock: the other sidecar's call waits for the commit.
      expect(childDone).toBe(false)
    })
    const childResult = await pending!
    expect(childResult.sessionId).toBe(parentResult.sessionId)
    expect(await threadOf(orgId, 'fixture-child')).toEqual({
      session_id: parentResult.sessionId,
      thread_id: 'toolu_01SpawnFixture',
    })
  })

  it('a child whose transaction began before the parent one keeps its own session; the next call joins', async () => {
    const orgId = randomUUID()
    const { parent, child } = fixtureCalls({ orgId })
    let pending: Promise<Awaited<ReturnType<Store['ingest']>>> | undefined
    const childResult = await inTransaction(b, child, async () => {
      // The parent waits for the child's shared lock: it commits after the child.
      pending = a.ingest(parent)
      await new Promise((resolve) => setTimeout(resolve, 100))
    })
    const parentResult = await pending!
    expect(childResult.sessionId).not.toBe(parentResult.sessionId)
    expect(await threadOf(orgId, 'fixture-child')).toEqual({
      session_id: childResult.sessionId,
      thread_id: null,
    })

    const next = fixtureCalls({
      orgId,
      child: { requestId: 'fixture-child-2', startedAt: 1_700_000_004_000 },
    }).child
    const joined = await b.ingest(next)
    expect(joined.sessionId).toBe(parentResult.sessionId)
    expect(await threadOf(orgId, 'fixture-child-2')).toMatchObject({ thread_id: 'toolu_01SpawnFixture' })
  })

  it('concurrent parents and children through both stores all commit, each child joined or alone', async () => {
    const orgId = randomUUID()
    const pairs = Array.from({ length: 24 }, (_, n) =>
      fixtureCalls({
        orgId,
        prompt: `Search task number ${n}.`,
        toolUseId: `toolu_pair_${n}`,
        // One main session for all parents, as one Claude Code session spawning many subagents.
        parent: {
          requestId: `parent-${n}`,
          startedAt: 1_700_000_000_000 + n,
          headers: { 'x-claude-code-session-id': 'main' },
        },
        child: { requestId: `child-${n}`, startedAt: 1_700_000_010_000 + n },
      }),
    )
    await Promise.all(
      pairs.flatMap(({ parent, child }, n) => [
        (n % 2 ? a : b).ingest(parent),
        (n % 2 ? b : a).ingest(child),
      ]),
    )
    const { rows } = await a.driver.query<{ request_id: string; session: string; thread_id: string | null }>(
      `SELECT t.request_id, s.harness_session_id AS session, t.thread_id
       FROM turns t JOIN sessions s ON s.org_id = t.org_id AND s.id = t.session_id WHERE t.org_id = $1`,
      [orgId],
    )
    expect(rows).toHaveLength(48)
    for (let n = 0; n < pairs.length; n++) {
      const child = rows.find((r) => r.request_id === `child-${n}`)!
      if (child.session === 'main') expect(child.thread_id).toBe(`toolu_pair_${n}`)
      else expect([child.session, child.thread_id]).toEqual([pairs[n]!.child.envelope.harnessSessionId, null])
    }
    const counts = await a.driver.query<{ turn_count: number; turns: number }>(
      `SELECT s.turn_count, (SELECT count(*)::int FROM turns t WHERE t.session_id = s.id) AS turns
       FROM sessions s WHERE s.org_id = $1`,
      [orgId],
    )
    for (const row of counts.rows) expect(row.turn_count).toBe(row.turns)
    const indexes = await a.driver.query<{ turn_index: number }>(
      `SELECT t.turn_index FROM turns t JOIN sessions s ON s.id = t.session_id
       WHERE s.org_id = $1 AND s.harness_session_id = 'main' ORDER BY t.turn_index`,
      [orgId],
    )
    expect(indexes.rows.map((r) => r.turn_index)).toEqual([...Array(indexes.rows.length).keys()])
  })
})
