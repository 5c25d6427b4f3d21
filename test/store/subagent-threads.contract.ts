/**
 * The subagent contract, registered per driver: a call whose opening prompt is a subagent prompt of
 * an earlier parent call (same org, same harness) joins the parent's session as its own thread,
 * named by the tool call's id, with parent_turn_id naming the parent turn. Explicit signals win.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteSession, getTurns } from '../../src/store/read/index.js'
import type { Store } from '../../src/store/store.js'
import { SUBAGENT_PROMPT_SOURCE } from '../../src/store/subagent-threads.js'
import { exportSession } from '../../src/transfer/export.js'
import { parseDocument, serializeDocument } from '../../src/transfer/format.js'
import { importSession } from '../../src/transfer/import.js'
import { CORPUS_PRESENT, noteCorpusSkip } from '../helpers/corpus.js'
import { type CorpusSignals, corpusCall, fixtureCalls } from '../helpers/subagent-calls.js'
import type { StoreHandle } from './store.contract.js'

const SPAWN = 'toolu_01SpawnFixture'
const CORPUS_SESSION = 'ac9b5a71-50d4-47c2-b771-4d5c3e96d899'
const CORPUS_SPAWN = 'toolu_011RUXHcaTksPqotauxQ3Ko2'

interface TurnPlace {
  request_id: string
  session: string
  session_source: string | null
  thread_id: string | null
  parent_request_id: string | null
  turn_index: number
}

export function registerSubagentThreadsContract(driverName: string, open: () => Promise<StoreHandle>): void {
  describe(`subagent calls as threads of the parent session (${driverName})`, () => {
    let handle: StoreHandle
    const store = (): Store => handle.store

    beforeAll(async () => {
      handle = await open()
    })
    afterAll(async () => {
      await handle?.cleanup()
    })

    /** Where each turn of the org landed, by request id. */
    async function places(orgId: string): Promise<Map<string, TurnPlace>> {
      const { rows } = await store().driver.query<TurnPlace>(
        `SELECT t.request_id, s.harness_id || '/' || s.harness_session_id AS session, s.session_source,
                t.thread_id, p.request_id AS parent_request_id, t.turn_index
         FROM turns t
         JOIN sessions s ON s.org_id = t.org_id AND s.id = t.session_id
         LEFT JOIN turns p ON p.org_id = t.org_id AND p.id = t.parent_turn_id
         WHERE t.org_id = $1`,
        [orgId],
      )
      return new Map(rows.map((row) => [row.request_id, { ...row, turn_index: Number(row.turn_index) }]))
    }

    it('puts a synthetic subagent call into the committed parent session, as the thread of the tool call', async () => {
      const orgId = randomUUID()
      const { parent, child } = fixtureCalls({ orgId })
      expect(parent.envelope.sessionSource).toBe('synthetic')
      expect(child.envelope.harnessSessionId).not.toBe(parent.envelope.harnessSessionId)
      const p = await store().ingest(parent)
      const c = await store().ingest(child)
      expect(c.sessionId).toBe(p.sessionId)
      const placed = await places(orgId)
      expect(placed.get('fixture-child')).toEqual({
        request_id: 'fixture-child',
        session: `claude/${parent.envelope.harnessSessionId}`,
        session_source: 'synthetic', // the session's own source; the child's is SUBAGENT_PROMPT_SOURCE
        thread_id: SPAWN,
        parent_request_id: 'fixture-parent',
        turn_index: 1,
      })
      expect(placed.get('fixture-parent')).toMatchObject({ thread_id: null, parent_request_id: null })
      const page = await getTurns(store().driver, orgId, p.sessionId)
      expect(page?.turns.map((t) => [t.threadId, t.parentTurnId])).toEqual([
        [null, null],
        [SPAWN, p.turnId],
      ])
      const { rows } = await store().driver.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM sessions WHERE org_id = $1',
        [orgId],
      )
      expect(rows[0]!.n).toBe(1)
    })

    it('finds a parent earlier in the same batch', async () => {
      const orgId = randomUUID()
      const { parent, child } = fixtureCalls({ orgId })
      const [p, c] = await store().ingestBatch([{ turn: parent }, { turn: child }])
      expect(c!.sessionId).toBe(p!.sessionId)
      expect((await places(orgId)).get('fixture-child')).toMatchObject({
        thread_id: SPAWN,
        parent_request_id: 'fixture-parent',
        turn_index: 1,
      })
    })

    it('gives an explicit session without a thread header the thread, within that session only', async () => {
      const orgId = randomUUID()
      const same = { headers: { 'x-claude-code-session-id': 'cc-session-1' } }
      const { parent, child } = fixtureCalls({ orgId, parent: same, child: same })
      await store().ingest(parent)
      await store().ingest(child)
      expect((await places(orgId)).get('fixture-child')).toMatchObject({
        session: 'claude/cc-session-1',
        session_source: 'header:x-claude-code-session-id',
        thread_id: SPAWN,
        parent_request_id: 'fixture-parent',
      })

      // Another explicit session is the client's word: the call stays there, without a thread.
      const other = randomUUID()
      const split = fixtureCalls({
        orgId: other,
        parent: same,
        child: { headers: { 'x-claude-code-session-id': 'cc-session-2' } },
      })
      await store().ingest(split.parent)
      await store().ingest(split.child)
      expect((await places(other)).get('fixture-child')).toMatchObject({
        session: 'claude/cc-session-2',
        thread_id: null,
        parent_request_id: null,
      })
    })

    it('keeps an explicit thread header, and still links the parent turn', async () => {
      const orgId = randomUUID()
      const headers = { 'x-claude-code-session-id': 'cc-session-3' }
      const { parent, child } = fixtureCalls({
        orgId,
        parent: { headers },
        child: { headers: { ...headers, 'x-claude-code-agent-id': 'agent-7' } },
      })
      await store().ingest(parent)
      await store().ingest(child)
      expect((await places(orgId)).get('fixture-child')).toMatchObject({
        session: 'claude/cc-session-3',
        thread_id: 'agent-7',
        parent_request_id: 'fixture-parent',
      })
    })

    it('moves a call with a thread header but a synthetic session into the parent session, thread kept', async () => {
      const orgId = randomUUID()
      const { parent, child } = fixtureCalls({
        orgId,
        child: { headers: { 'x-claude-code-agent-id': 'agent-8' } },
      })
      expect(child.envelope.sessionSource).toBe('synthetic')
      await store().ingest(parent)
      await store().ingest(child)
      expect((await places(orgId)).get('fixture-child')).toMatchObject({
        session: `claude/${parent.envelope.harnessSessionId}`,
        thread_id: 'agent-8',
        parent_request_id: 'fixture-parent',
      })
    })

    it('keeps the parent link through export, delete and import', async () => {
      const orgId = randomUUID()
      const { parent, child } = fixtureCalls({ orgId })
      const p = await store().ingest(parent)
      await store().ingest(child)
      const before = await places(orgId)
      const document = await exportSession(store().driver, orgId, p.sessionId)
      expect(document!.payload.turns.map((t) => t.parent_turn_id)).toEqual([null, p.turnId])
      await deleteSession(store().driver, orgId, p.sessionId)
      await importSession(store().driver, parseDocument(serializeDocument(document!)))
      expect(await places(orgId)).toEqual(before)
    })

    it('deletes the spawns with their session', async () => {
      const orgId = randomUUID()
      const { parent, child } = fixtureCalls({ orgId })
      const p = await store().ingest(parent)
      await store().ingest(child)
      await deleteSession(store().driver, orgId, p.sessionId)
      const { rows } = await store().driver.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM subagent_spawns WHERE org_id = $1',
        [orgId],
      )
      expect(rows[0]!.n).toBe(0)
    })

    it('takes the latest spawn of the same prompt that started no later than the call', async () => {
      const orgId = randomUUID()
      const parentIn = (session: string, minute: number, toolUseId: string) =>
        fixtureCalls({
          orgId,
          toolUseId,
          parent: {
            requestId: `parent-${session}`,
            startedAt: 1_700_000_000_000 + minute * 60_000,
            headers: { 'x-claude-code-session-id': session },
          },
        }).parent
      await store().ingest(parentIn('p1', 0, 'toolu_first'))
      await store().ingest(parentIn('p2', 10, 'toolu_second'))
      const child = (requestId: string, minute: number) =>
        fixtureCalls({ orgId, child: { requestId, startedAt: 1_700_000_000_000 + minute * 60_000 } }).child
      await store().ingest(child('between', 5))
      await store().ingest(child('after', 15))
      const placed = await places(orgId)
      expect(placed.get('between')).toMatchObject({ session: 'claude/p1', thread_id: 'toolu_first' })
      expect(placed.get('after')).toMatchObject({ session: 'claude/p2', thread_id: 'toolu_second' })
    })

    it('never matches a parent of another org', async () => {
      const orgA = randomUUID()
      const orgB = randomUUID()
      await store().ingest(fixtureCalls({ orgId: orgA }).parent)
      const { child } = fixtureCalls({ orgId: orgB })
      await store().ingest(child)
      expect((await places(orgB)).get('fixture-child')).toMatchObject({
        session: `claude/${child.envelope.harnessSessionId}`,
        thread_id: null,
        parent_request_id: null,
        turn_index: 0,
      })
    })

    it('leaves a call that started before the parent, or whose parent is not committed yet, where it was', async () => {
      const orgId = randomUUID()
      const early = fixtureCalls({ orgId, child: { startedAt: 1_600_000_000_000 } })
      await store().ingest(early.child)
      await store().ingest(early.parent)
      const placed = await places(orgId)
      expect(placed.get('fixture-child')).toMatchObject({
        session: `claude/${early.child.envelope.harnessSessionId}`,
        thread_id: null,
      })
      // A later call of the same subagent, once the parent is committed, does join it.
      const later = fixtureCalls({
        orgId,
        child: { requestId: 'fixture-child-2', startedAt: 1_700_000_005_000 },
      })
      await store().ingest(later.child)
      expect((await places(orgId)).get('fixture-child-2')).toMatchObject({
        session: `claude/${early.parent.envelope.harnessSessionId}`,
        thread_id: SPAWN,
      })
    })

    it('records one spawn row per tool call of the parent turn, once however often the parent is ingested', async () => {
      const orgId = randomUUID()
      const { parent } = fixtureCalls({ orgId })
      const first = await store().ingest(parent)
      const again = await store().ingest(parent)
      expect(again.inserted).toBe(false)
      const { rows } = await store().driver.query<{
        session_id: string
        turn_id: string
        harness_id: string
      }>(
        'SELECT session_id, turn_id, harness_id FROM subagent_spawns WHERE org_id = $1 AND tool_use_id = $2',
        [orgId, SPAWN],
      )
      expect(rows).toEqual([{ session_id: first.sessionId, turn_id: first.turnId, harness_id: 'claude' }])
      expect(SUBAGENT_PROMPT_SOURCE).toBe('subagent_prompt')
    })

    noteCorpusSkip('subagent threads of the recorded Claude Code session')

    describe.skipIf(!CORPUS_PRESENT)('the recorded Claude Code session', () => {
      const signals: CorpusSignals[] = ['all', 'native-headers', 'metadata-only', 'none']
      for (const kept of signals) {
        it(`puts turns 10-11 in the parent session as one thread, the rest on the main thread (${kept})`, async () => {
          const orgId = randomUUID()
          for (let i = 1; i <= 17; i++) await store().ingest(corpusCall(i, kept, orgId))
          const placed = await places(orgId)
          const main = placed.get('corpus-turn-2')!
          if (kept !== 'none') expect(main.session).toBe(`claude/${CORPUS_SESSION}`)
          // Explicit agent headers name the thread when present; the prompt link names it otherwise.
          const thread = kept === 'all' || kept === 'native-headers' ? 'a0c0778e223db598c' : CORPUS_SPAWN
          for (let i = 2; i <= 17; i++) {
            const turn = placed.get(`corpus-turn-${i}`)!
            expect(turn.session, `turn ${i}`).toBe(main.session)
            const subagent = i === 10 || i === 11
            expect(turn.thread_id, `turn ${i}`).toBe(subagent ? thread : null)
            expect(turn.parent_request_id, `turn ${i}`).toBe(subagent ? 'corpus-turn-9' : null)
          }
        })
      }
    })
  })
}
