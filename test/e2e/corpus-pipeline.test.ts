import { isDeepStrictEqual } from 'node:util'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/run.js'
import type { RunningSidecar } from '../../src/cli/serve.js'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import { detectApi, parseResponse } from '../../src/providers/index.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import { CORPUS_DIR, CORPUS_PRESENT, noteCorpusSkip } from '../helpers/corpus.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { startTestSidecar } from './sidecar.js'

noteCorpusSkip('end to end: serve + replay of the corpus')

describe.skipIf(!CORPUS_PRESENT)(
  'sessiontap serve with DATABASE_URL, then sessiontap replay of the whole corpus',
  () => {
    let db: TestPostgres
    let sidecar: RunningSidecar
    let client: pg.Client
    const cases = CORPUS_PRESENT ? loadExchangeCases([CORPUS_DIR]) : []

    beforeAll(async () => {
      db = await startTestPostgres()
      sidecar = await startTestSidecar(db.url)
      client = new pg.Client(db.url)
      await client.connect()
      const out: string[] = []
      const code = await run(
        [
          'replay',
          CORPUS_DIR,
          '--target',
          sidecar.grpcAddress,
          '--admin-address',
          sidecar.httpAddress,
          '--concurrency',
          '4',
          '--message-timeout-ms',
          '5000',
        ],
        {},
        (s) => out.push(s),
      )
      expect(out.join('\n')).toContain('violations: 0')
      expect(code).toBe(0)
      // Graceful stop drains the recorder: every turn is committed before it resolves.
      await sidecar.stop('test')
    })
    afterAll(async () => {
      await client?.end()
      await db?.stop()
    })

    it('commits one turn per recorded LLM call', async () => {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM turns')
      expect(rows[0].n).toBe(cases.length)
    })

    it('stores the usage the recorded response bytes carry, turn by turn, and the session totals add up', async () => {
      const { rows } = await client.query(
        'SELECT t.*, s.harness_session_id FROM turns t JOIN sessions s ON s.id = t.session_id ORDER BY t.created_at',
      )
      expect(rows).toHaveLength(cases.length)
      for (const c of cases) {
        const detected = detectApi(c.spec.request.method, c.spec.request.path, {})
        expect(detected.ok, c.name).toBe(true)
        if (!detected.ok) continue
        const body = decodeBody([c.spec.response.body], c.recorded.contentEncoding).bytes
        const parsed = parseResponse({
          api: detected.api,
          status: c.spec.response.status,
          contentType: c.recorded.contentType,
          body,
          request: null,
        })
        const num = (v: unknown) => (v === null ? null : Number(v))
        const match = rows.find(
          (r) =>
            r.status_code === c.spec.response.status &&
            r.api === detected.api &&
            num(r.input_tokens) === parsed.usage.inputTokens &&
            num(r.output_tokens) === parsed.usage.outputTokens &&
            num(r.cache_read_tokens) === parsed.usage.cacheReadTokens &&
            num(r.cache_creation_5m_tokens) === (parsed.usage.cacheCreation5mTokens ?? null) &&
            num(r.cache_creation_1h_tokens) === (parsed.usage.cacheCreation1hTokens ?? null) &&
            num(r.web_search_requests) === (parsed.usage.webSearchRequests ?? null) &&
            isDeepStrictEqual(r.provider_timing, parsed.providerTiming ?? null) &&
            r.provider_response_id === parsed.providerResponseId,
        )
        expect(match, `${c.name}: a turn with the recorded usage`).toBeDefined()
      }
      const totals = await client.query(
        `SELECT s.id, s.turn_count, s.total_input_tokens, s.total_output_tokens,
              count(t.id)::int AS turns, coalesce(sum(t.input_tokens),0)::bigint AS input, coalesce(sum(t.output_tokens),0)::bigint AS output
       FROM sessions s LEFT JOIN turns t ON t.session_id = s.id GROUP BY s.id`,
      )
      for (const s of totals.rows) {
        expect(s.turn_count).toBe(s.turns)
        expect(String(s.total_input_tokens)).toBe(String(s.input))
        expect(String(s.total_output_tokens)).toBe(String(s.output))
      }
    })

    it('stores content for every turn: the request leaf always, the response node of every answered call', async () => {
      const { rows } = await client.query(
        `SELECT t.request_id, t.status_code, t.error_type, t.response_hash,
                leaf.content IS NOT NULL AS leaf_content, resp.content IS NOT NULL AS response_content
         FROM turns t
         LEFT JOIN nodes leaf ON leaf.org_id = t.org_id AND leaf.hash = t.request_leaf_hash
         LEFT JOIN nodes resp ON resp.org_id = t.org_id AND resp.hash = t.response_hash`,
      )
      expect(rows).toHaveLength(cases.length)
      for (const r of rows) {
        expect(r.leaf_content, `${r.request_id}: request leaf content`).toBe(true)
        if (r.status_code < 400) {
          expect(r.response_hash, `${r.request_id}: response node`).not.toBeNull()
          expect(r.response_content, `${r.request_id}: response content`).toBe(true)
        } else expect(r.error_type, `${r.request_id}: error type`).not.toBeNull()
      }
    })

    it('records the subagent calls (turns 10-11) as one thread of the session, and the spawn of turn 9', async () => {
      const { rows } = await client.query(
        `SELECT t.thread_id, p.request_id AS parent
         FROM turns t JOIN sessions s ON s.id = t.session_id
         LEFT JOIN turns p ON p.org_id = t.org_id AND p.id = t.parent_turn_id
         WHERE s.harness_session_id = 'ac9b5a71-50d4-47c2-b771-4d5c3e96d899' AND t.thread_id IS NOT NULL`,
      )
      expect(rows.map((r) => r.thread_id)).toEqual(['a0c0778e223db598c', 'a0c0778e223db598c'])
      const spawns = await client.query(
        'SELECT sp.tool_use_id, t.request_id FROM subagent_spawns sp JOIN turns t ON t.id = sp.turn_id',
      )
      expect(spawns.rows.map((r) => r.tool_use_id)).toEqual(['toolu_011RUXHcaTksPqotauxQ3Ko2'])
      // Replay sends four calls at a time, so a subagent call may start (or commit) before its parent
      // and then has no parent link; in order, both get it (test/store/subagent-threads.contract.ts).
      for (const r of rows) expect([null, spawns.rows[0].request_id]).toContain(r.parent)
    })

    it('groups the Claude Code session into one session of 17 turns, with far fewer node rows than messages sent', async () => {
      const { rows } = await client.query(
        `SELECT id, turn_count, session_source FROM sessions WHERE harness_session_id = 'ac9b5a71-50d4-47c2-b771-4d5c3e96d899'`,
      )
      expect(rows).toHaveLength(1)
      expect(rows[0].turn_count).toBe(17)
      const indexes = await client.query(
        'SELECT turn_index FROM turns WHERE session_id = $1 ORDER BY turn_index',
        [rows[0].id],
      )
      expect(indexes.rows.map((r) => r.turn_index)).toEqual([...Array(17).keys()])
      const sent = cases
        .filter((c) => c.name.startsWith('anthropic-claudecode-session'))
        .reduce(
          (n, c) => n + (JSON.parse(c.spec.request.body.toString()).messages as unknown[]).length + 2,
          0,
        )
      const nodes = await client.query('SELECT count(*)::int AS n FROM nodes WHERE session_id = $1', [
        rows[0].id,
      ])
      expect(nodes.rows[0].n).toBeGreaterThan(17)
      expect(nodes.rows[0].n).toBeLessThan(sent / 4)
    })
  },
)
