/**
 * The read API over HTTP on a real Postgres: bearer-token auth, one org per token, the endpoints'
 * answers, paging through cursors, and every kind of bad input answered 4xx with a JSON error.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../src/store/store.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { at, chain, makeTurn, rawBodies } from '../store/turn-factory.js'
import { type ReadServer, startReadServer } from './admin-harness.js'

const ORG_A = randomUUID()
const ORG_B = randomUUID()
const TOKEN_A = 'token-a-0123456789abcdef'
const TOKEN_B = 'token-b-0123456789abcdef'

interface ErrorBody {
  error: { code: string; message: string }
}

describe('read API over HTTP (Postgres)', () => {
  let pg: TestPostgres
  let store: Store
  let api: ReadServer
  const ids: Record<string, string> = {}

  const get = (path: string, token: string | null = TOKEN_A, init: RequestInit = {}) =>
    fetch(`${api.baseUrl}${path}`, {
      ...init,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    })

  async function seed(
    orgId: string,
    name: string,
    minute: number,
    extra: Parameters<typeof makeTurn>[0] = {},
  ) {
    const result = await store.ingest(
      makeTurn({
        ...extra,
        envelope: { orgId, harnessSessionId: name, ...extra.envelope },
        startedAt: at(minute),
        nodes: extra.nodes ?? chain([`${name} question`, `${name} answer`]),
      }),
    )
    ids[name] = result.sessionId
    return result
  }

  beforeAll(async () => {
    pg = await startTestPostgres()
    store = await openStore({ databaseUrl: pg.url, dataDir: 'unused' })
    api = await startReadServer(store, [
      { token: TOKEN_A, orgId: ORG_A },
      { token: TOKEN_B, orgId: ORG_B },
    ])
    for (let i = 0; i < 5; i++) await seed(ORG_A, `a${i}`, i, { costUsd: (5 - i) / 10 })
    await seed(ORG_A, 'codex-1', 10, { envelope: { harnessId: 'codex' } })
    await seed(ORG_A, 'a0', 20, {
      statusCode: 500,
      errorType: 'api_error',
      nodes: chain(['a0 question', 'a0 answer', 'a0 follow-up', 'a0 late answer']),
    })
    await seed(ORG_B, 'b0', 0)
  })
  afterAll(async () => {
    await api?.close()
    await store?.close()
    await pg?.stop()
  })

  describe('auth', () => {
    it('refuses a request without a token, with a wrong token or another scheme', async () => {
      for (const res of [
        await get('/v1/sessions', null),
        await get('/v1/sessions', 'token-x-0123456789abcdef'),
        await get('/v1/sessions', `${TOKEN_A}x`),
        await fetch(`${api.baseUrl}/v1/sessions`, { headers: { authorization: `Basic ${TOKEN_A}` } }),
      ]) {
        expect(res.status).toBe(401)
        expect(res.headers.get('www-authenticate')).toContain('Bearer')
        expect(((await res.json()) as ErrorBody).error.code).toBe('unauthorized')
      }
    })

    it('is off (404, api_disabled) when no token is configured', async () => {
      const off = await startReadServer(store, [])
      try {
        const res = await fetch(`${off.baseUrl}/v1/sessions`, {
          headers: { authorization: `Bearer ${TOKEN_A}` },
        })
        expect(res.status).toBe(404)
        expect(((await res.json()) as ErrorBody).error).toMatchObject({ code: 'api_disabled' })
        expect((await fetch(`${off.baseUrl}/ui/sessions?token=${TOKEN_A}`)).status).toBe(404)
        // The built-in routes are unaffected.
        expect((await fetch(`${off.baseUrl}/healthz`)).status).toBe(200)
      } finally {
        await off.close()
      }
    })

    it('shows a token only its own org', async () => {
      const a = (await (await get('/v1/sessions')).json()) as { sessions: Array<{ id: string }> }
      const b = (await (await get('/v1/sessions', TOKEN_B)).json()) as { sessions: Array<{ id: string }> }
      expect(b.sessions.map((s) => s.id)).toEqual([ids.b0])
      expect(a.sessions.map((s) => s.id)).not.toContain(ids.b0)
      expect(a.sessions).toHaveLength(6)
      for (const path of ['', '/turns', '/transcript', '/transcript?format=text']) {
        const res = await get(`/v1/sessions/${ids.b0}${path}`)
        expect(res.status, path).toBe(404)
        expect(((await res.json()) as ErrorBody).error.code).toBe('not_found')
      }
      expect((await get(`/v1/sessions/${ids.b0}`, TOKEN_A, { method: 'DELETE' })).status).toBe(404)
      expect((await get(`/v1/sessions/${ids.b0}`, TOKEN_B)).status).toBe(200)
    })
  })

  describe('endpoints', () => {
    it('GET /v1/sessions filters, sorts and pages with a cursor', async () => {
      const codex = (await (await get('/v1/sessions?harness=codex')).json()) as {
        sessions: Array<{ id: string }>
      }
      expect(codex.sessions.map((s) => s.id)).toEqual([ids['codex-1']])

      const seen: string[] = []
      let path = '/v1/sessions?sort=cost&order=asc&limit=2'
      for (let pages = 0; pages < 10; pages++) {
        const body = (await (await get(path)).json()) as {
          sessions: Array<{ id: string; costUsd: number }>
          nextCursor: string | null
        }
        expect(body.sessions.length).toBeLessThanOrEqual(2)
        seen.push(...body.sessions.map((s) => s.id))
        if (!body.nextCursor) break
        path = `/v1/sessions?sort=cost&order=asc&limit=2&cursor=${body.nextCursor}`
      }
      expect(seen).toHaveLength(6)
      expect(new Set(seen).size).toBe(6)
      expect(seen.slice(0, 2)).toEqual([ids['codex-1'], ids.a4])
    })

    it('GET /v1/sessions/{id}, /turns and /transcript', async () => {
      const { session } = (await (await get(`/v1/sessions/${ids.a0}`)).json()) as {
        session: { id: string; turnCount: number; errorCount: number; children: unknown[] }
      }
      expect(session).toMatchObject({ id: ids.a0, turnCount: 2, errorCount: 1, children: [] })

      const turns = (await (await get(`/v1/sessions/${ids.a0}/turns`)).json()) as {
        turns: Array<{ turnIndex: number; isError: boolean; statusCode: number }>
        nextAfterIndex: number | null
      }
      expect(turns.turns.map((t) => [t.turnIndex, t.isError, t.statusCode])).toEqual([
        [0, false, 200],
        [1, true, 500],
      ])
      const second = (await (await get(`/v1/sessions/${ids.a0}/turns?after=0&limit=1`)).json()) as {
        turns: Array<{ turnIndex: number }>
      }
      expect(second.turns.map((t) => t.turnIndex)).toEqual([1])

      const transcript = (await (await get(`/v1/sessions/${ids.a0}/transcript`)).json()) as {
        branches: Array<{ messages: Array<{ role: string }> }>
      }
      expect(transcript.branches).toHaveLength(1)
      expect(transcript.branches[0]!.messages.map((m) => m.role)).toEqual([
        'user',
        'assistant',
        'user',
        'assistant',
      ])
      const text = await get(`/v1/sessions/${ids.a0}/transcript?format=text`)
      expect(text.headers.get('content-type')).toContain('text/plain')
      expect(await text.text()).toContain('#4 [assistant · response of turn 1]\na0 late answer')
    })

    it('GET /v1/sessions/{id}/turns/{turn}/raw gives the bodies by turn index or id, org-scoped', async () => {
      const request =
        '{"messages":[{"role":"system","content":"Titles go inside <session> tags. Ünïcode ✓"}]}'
      const response = 'data: {"delta":"hi"}\n\ndata: [DONE]\n\n'
      const { sessionId, turnId } = await seed(ORG_A, 'raw-1', 40, {
        rawBodies: rawBodies(request, response),
      })
      const expected = {
        turnId,
        turnIndex: 0,
        raw: {
          request: { text: request, size: Buffer.byteLength(request), truncated: false },
          response: { text: response, size: response.length, truncated: false },
        },
      }
      for (const turn of ['0', turnId, turnId.toUpperCase()]) {
        const res = await get(`/v1/sessions/${sessionId}/turns/${turn}/raw`)
        expect(res.status).toBe(200)
        expect(await res.json()).toEqual(expected)
      }
      const other = await get(`/v1/sessions/${sessionId}/turns/0/raw`, TOKEN_B)
      expect([other.status, ((await other.json()) as ErrorBody).error.code]).toEqual([404, 'not_found'])
      const absent = await get(`/v1/sessions/${sessionId}/turns/1/raw`)
      expect([absent.status, ((await absent.json()) as ErrorBody).error.code]).toEqual([404, 'not_found'])
      const none = await get(`/v1/sessions/${ids.a1}/turns/0/raw`)
      expect([none.status, ((await none.json()) as ErrorBody).error.code]).toEqual([404, 'no_raw_bodies'])
      const bad = await get(`/v1/sessions/${sessionId}/turns/first/raw`)
      expect([bad.status, ((await bad.json()) as ErrorBody).error.code]).toEqual([400, 'invalid_turn'])
    })

    it('DELETE /v1/sessions/{id} removes the session', async () => {
      const { sessionId } = await seed(ORG_A, 'doomed', 30)
      const res = await get(`/v1/sessions/${sessionId}`, TOKEN_A, { method: 'DELETE' })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ deleted: { sessionId, turnsDeleted: 1, nodesDeleted: 2 } })
      expect((await get(`/v1/sessions/${sessionId}`)).status).toBe(404)
      expect((await get(`/v1/sessions/${sessionId}`, TOKEN_A, { method: 'DELETE' })).status).toBe(404)
    })
  })

  describe('bad input: 4xx with a JSON error, never 500', () => {
    const validCostCursor = async () =>
      ((await (await get('/v1/sessions?sort=cost&limit=1')).json()) as { nextCursor: string }).nextCursor
    const forged = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url')

    const cases: Array<[string, string | (() => Promise<string>), number, string, string?]> = [
      ['malformed id', '/v1/sessions/not-a-uuid', 400, 'invalid_id'],
      ['malformed percent-encoding', '/v1/sessions/%ZZ', 400, 'invalid_id'],
      ['unknown id', `/v1/sessions/${randomUUID()}`, 404, 'not_found'],
      ['unknown id turns', `/v1/sessions/${randomUUID()}/turns`, 404, 'not_found'],
      ['unknown route', '/v1/sessionz', 404, 'not_found'],
      ['unknown sub-resource', `/v1/sessions/${randomUUID()}/nodes`, 404, 'not_found'],
      ['garbage cursor', '/v1/sessions?cursor=garbage!', 400, 'invalid_cursor'],
      ['base64 non-JSON cursor', '/v1/sessions?cursor=bm90IGpzb24', 400, 'invalid_cursor'],
      [
        'cursor with an injected key',
        `/v1/sessions?sort=cost&cursor=${forged({ s: 'cost', o: 'desc', k: "1'; drop table sessions; --", i: randomUUID() })}`,
        400,
        'invalid_cursor',
      ],
      [
        'cursor with an impossible timestamp',
        `/v1/sessions?cursor=${forged({ s: 'last_seen', o: 'desc', k: '2026-13-45T99:99:99.000000Z', i: randomUUID() })}`,
        400,
        'invalid_cursor',
      ],
      [
        'cursor of another sort',
        async () => `/v1/sessions?sort=turns&cursor=${await validCostCursor()}`,
        400,
        'invalid_cursor',
      ],
      ['unknown sort', '/v1/sessions?sort=name', 400, 'invalid_query', 'sort'],
      ['unknown order', '/v1/sessions?order=up', 400, 'invalid_query', 'order'],
      ['limit 0', '/v1/sessions?limit=0', 400, 'invalid_query', 'limit'],
      ['limit too large', '/v1/sessions?limit=100000', 400, 'invalid_query', 'limit'],
      ['limit not a number', '/v1/sessions?limit=ten', 400, 'invalid_query', 'limit'],
      ['limit fractional', '/v1/sessions?limit=1.5', 400, 'invalid_query', 'limit'],
      ['since not a time', '/v1/sessions?since=yesterday', 400, 'invalid_query', 'since'],
      ['status unknown', '/v1/sessions?status=open', 400, 'invalid_query', 'status'],
      ['parent not a uuid', '/v1/sessions?parent=abc', 400, 'invalid_query', 'parent'],
      ['NUL in a filter', '/v1/sessions?subject=a%00b', 400, 'invalid_query', 'subject'],
      ['overlong filter', `/v1/sessions?harness=${'x'.repeat(5000)}`, 400, 'invalid_query', 'harness'],
      ['unknown parameter', '/v1/sessions?colour=red', 400, 'invalid_query', 'colour'],
      ['repeated parameter', '/v1/sessions?sort=cost&sort=turns', 400, 'invalid_query', 'sort'],
      [
        'turns after not a number',
        `/v1/sessions/${randomUUID()}/turns?after=x`,
        400,
        'invalid_query',
        'after',
      ],
      [
        'transcript format unknown',
        `/v1/sessions/${randomUUID()}/transcript?format=xml`,
        400,
        'invalid_query',
      ],
      ['parameter on a session', `/v1/sessions/${randomUUID()}?expand=all`, 400, 'invalid_query'],
    ]

    for (const [name, path, status, code, mentions] of cases) {
      it(`${name} → ${status} ${code}`, async () => {
        const res = await get(typeof path === 'string' ? path : await path())
        expect(res.status).toBe(status)
        expect(res.headers.get('content-type')).toContain('application/json')
        const body = (await res.json()) as ErrorBody
        expect(body.error.code).toBe(code)
        expect(body.error.message.length).toBeGreaterThan(0)
        if (mentions) expect(body.error.message).toContain(mentions)
      })
    }

    it('wrong methods → 405 with Allow', async () => {
      const post = await get('/v1/sessions', TOKEN_A, { method: 'POST' })
      expect(post.status).toBe(405)
      expect(post.headers.get('allow')).toBe('GET')
      const put = await get(`/v1/sessions/${ids.a1}`, TOKEN_A, { method: 'PUT' })
      expect(put.status).toBe(405)
      expect(((await put.json()) as ErrorBody).error.code).toBe('method_not_allowed')
      expect((await get(`/v1/sessions/${ids.a1}/turns`, TOKEN_A, { method: 'DELETE' })).status).toBe(405)
      expect((await get(`/v1/sessions/${ids.a1}`)).status).toBe(200)
    })
  })
})
