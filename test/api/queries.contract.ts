/**
 * The read queries (src/store/read/), registered once per driver (real Postgres and PGlite):
 * filters, sorting, keyset pagination under concurrent writes, org scoping, transcript with forks,
 * and delete keeping shared nodes. Data goes in through the real Store.ingest.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderTranscriptText } from '../../src/api/transcript-text.js'
import {
  deleteSession,
  getSession,
  getTranscript,
  getTurns,
  InvalidCursorError,
  type ListSessionsOptions,
  listSessions,
  type SessionSummary,
} from '../../src/store/read/index.js'
import type { Store } from '../../src/store/store.js'
import { at, chain, makeTurn } from '../store/turn-factory.js'

export interface QueriesHandle {
  store: Store
  cleanup(): Promise<void>
}

/** Every page of a listing, following nextCursor; `between` runs before each next page is read. */
async function allPages(
  store: Store,
  orgId: string,
  options: ListSessionsOptions,
  between: (page: number) => Promise<void> = async () => {},
): Promise<SessionSummary[]> {
  const seen: SessionSummary[] = []
  let cursor: string | undefined
  for (let page = 0; ; page++) {
    const [result] = await Promise.all([
      listSessions(store.driver, orgId, { ...options, cursor }),
      page > 0 ? between(page) : Promise.resolve(),
    ])
    seen.push(...result.sessions)
    if (!result.nextCursor) return seen
    cursor = result.nextCursor
  }
}

const usage = (input: number, output: number) => ({
  inputTokens: input,
  outputTokens: output,
  cacheReadTokens: null,
  cacheCreationTokens: null,
  reasoningTokens: null,
  status: 'reported' as const,
})

export function registerQueriesContract(driverName: string, open: () => Promise<QueriesHandle>): void {
  describe(`read queries (${driverName})`, () => {
    let handle: QueriesHandle
    const store = (): Store => handle.store

    beforeAll(async () => {
      handle = await open()
    })
    afterAll(async () => {
      await handle?.cleanup()
    })

    /** A session of `turns` turns; turn i starts at minute start + i. */
    async function seedSession(
      orgId: string,
      harnessSessionId: string,
      options: {
        harnessId?: string
        subject?: string
        start?: number
        turns?: number
        cost?: number
        tokens?: [number, number]
        end?: boolean
        parent?: string
      } = {},
    ): Promise<string> {
      let sessionId = ''
      const turns = options.turns ?? 1
      for (let i = 0; i < turns; i++) {
        const result = await store().ingest(
          makeTurn({
            envelope: {
              orgId,
              harnessId: options.harnessId ?? 'claude-code',
              harnessSessionId,
              authSubject: options.subject ?? 'alice',
              endSession: options.end === true && i === turns - 1,
              parent: options.parent ? { harnessId: 'claude-code', harnessSessionId: options.parent } : null,
            },
            startedAt: at((options.start ?? 0) + i),
            latencyMs: 1000,
            costUsd: options.cost ?? 0.001,
            usage: usage(...(options.tokens ?? [100, 10])),
            nodes: chain([`${harnessSessionId} hello`, `${harnessSessionId} answer ${i}`]),
          }),
        )
        sessionId = result.sessionId
      }
      return sessionId
    }

    describe('listSessions', () => {
      const orgId = randomUUID()
      const ids: Record<string, string> = {}

      beforeAll(async () => {
        ids.a = await seedSession(orgId, 'a', { start: 0, turns: 3, cost: 0.5, tokens: [10, 1], end: true })
        ids.b = await seedSession(orgId, 'b', { start: 10, harnessId: 'codex', subject: 'bob', cost: 2 })
        ids.c = await seedSession(orgId, 'c', { start: 20, turns: 2, tokens: [5000, 500], parent: 'a' })
        ids.d = await seedSession(orgId, 'd', { start: 30, cost: 0.25, tokens: [1, 1] })
        // Another org, same harness ids: never visible here.
        await seedSession(randomUUID(), 'a', { start: 40 })
      })

      const names = async (options: ListSessionsOptions = {}) =>
        (await listSessions(store().driver, orgId, options)).sessions.map((s) => s.harnessSessionId)

      it('lists the org only, newest last_seen first, with totals', async () => {
        const page = await listSessions(store().driver, orgId)
        expect(page.sessions.map((s) => s.harnessSessionId)).toEqual(['d', 'c', 'b', 'a'])
        expect(page.nextCursor).toBeNull()
        expect(page.sessions.find((s) => s.id === ids.a)).toMatchObject({
          turnCount: 3,
          status: 'ended',
          endReason: 'client',
          costUsd: 1.5,
          tokens: { input: 30, output: 3 },
          startedAt: '2026-01-01T10:00:00.000Z',
          lastSeenAt: '2026-01-01T10:02:01.000Z',
        })
      })

      it('filters by harness, subject, status, parent and last_seen range', async () => {
        expect(await names({ harness: 'codex' })).toEqual(['b'])
        expect(await names({ authSubject: 'bob' })).toEqual(['b'])
        expect(await names({ status: 'ended' })).toEqual(['a'])
        expect(await names({ status: 'active' })).toEqual(['d', 'c', 'b'])
        expect(await names({ parentId: ids.a })).toEqual(['c'])
        expect(await names({ since: at(10), until: at(22) })).toEqual(['c', 'b'])
        expect(await names({ harness: 'nobody' })).toEqual([])
      })

      it('sorts by cost, tokens and turns in both directions', async () => {
        expect(await names({ sort: 'cost' })).toEqual(['b', 'a', 'd', 'c'])
        expect(await names({ sort: 'tokens', order: 'desc' })).toEqual(['c', 'b', 'a', 'd'])
        expect(await names({ sort: 'turns', order: 'asc' })).toEqual(
          // b and d tie on 1 turn: the id (UUIDv7, so creation order) breaks the tie.
          ids.b! < ids.d! ? ['b', 'd', 'c', 'a'] : ['d', 'b', 'c', 'a'],
        )
        expect(await names({ sort: 'last_seen', order: 'asc' })).toEqual(['a', 'b', 'c', 'd'])
      })

      it('pages with a cursor bound to its sort and order', async () => {
        const first = await listSessions(store().driver, orgId, { sort: 'cost', limit: 3 })
        expect(first.sessions.map((s) => s.harnessSessionId)).toEqual(['b', 'a', 'd'])
        const second = await listSessions(store().driver, orgId, {
          sort: 'cost',
          limit: 3,
          cursor: first.nextCursor!,
        })
        expect(second.sessions.map((s) => s.harnessSessionId)).toEqual(['c'])
        expect(second.nextCursor).toBeNull()
        await expect(
          listSessions(store().driver, orgId, { sort: 'turns', cursor: first.nextCursor! }),
        ).rejects.toThrow(InvalidCursorError)
        for (const bad of [
          'nope',
          'e30',
          Buffer.from('{"s":"cost","o":"desc","k":"1;drop","i":"x"}').toString('base64url'),
        ]) {
          await expect(listSessions(store().driver, orgId, { sort: 'cost', cursor: bad })).rejects.toThrow(
            InvalidCursorError,
          )
        }
      })
    })

    describe('pagination while sessions are inserted and updated', () => {
      const orgId = randomUUID()
      const SESSIONS = 40
      const initial: string[] = []

      beforeAll(async () => {
        for (let i = 0; i < SESSIONS; i++)
          initial.push(await seedSession(orgId, `p${i}`, { start: i, cost: i / 100 }))
      })

      /**
       * Between pages: a new session (newest last_seen), a new session with an old last_seen (a late
       * replay), and a new turn for an existing session picked by `pick` (which moves its sort keys).
       */
      function writer(pick: (page: number) => string, touched: Set<string>) {
        let n = 0
        return async (page: number) => {
          const name = pick(page)
          touched.add(name)
          n++
          await Promise.all([
            seedSession(orgId, `new-${Math.random()}`, { start: 100 + n }),
            seedSession(orgId, `old-${Math.random()}`, { start: -50 - n }),
            store().ingest(
              makeTurn({
                envelope: { orgId, harnessSessionId: name },
                startedAt: at(200 + n),
                costUsd: 1,
                nodes: chain([`${name} hello`, `${name} again ${n}`]),
              }),
            ),
          ])
        }
      }

      const countBy = (list: SessionSummary[]) => {
        const counts = new Map<string, number>()
        for (const s of list) counts.set(s.harnessSessionId, (counts.get(s.harnessSessionId) ?? 0) + 1)
        return counts
      }

      it('desc: no session twice; every untouched session exactly once', async () => {
        const touched = new Set<string>()
        // Alternate: a session already seen (near the top) and one not yet seen (near the bottom).
        const pick = (page: number) => (page % 2 === 0 ? `p${SESSIONS - page}` : `p${page}`)
        const seen = await allPages(store(), orgId, { limit: 6 }, writer(pick, touched))
        const counts = countBy(seen)
        expect([...counts.values()].every((c) => c === 1)).toBe(true)
        for (let i = 0; i < SESSIONS; i++) {
          if (!touched.has(`p${i}`)) expect(counts.get(`p${i}`), `p${i}`).toBe(1)
        }
        expect(touched.size).toBeGreaterThan(3)
      })

      it('asc: no session skipped; every untouched session exactly once', async () => {
        const touched = new Set<string>()
        const pick = (page: number) => (page % 2 === 0 ? `p${page}` : `p${SESSIONS - page}`)
        const seen = await allPages(
          store(),
          orgId,
          { order: 'asc', limit: 6, sort: 'cost' },
          writer(pick, touched),
        )
        const counts = countBy(seen)
        for (let i = 0; i < SESSIONS; i++) {
          const c = counts.get(`p${i}`) ?? 0
          if (touched.has(`p${i}`)) expect(c, `p${i}`).toBeGreaterThanOrEqual(1)
          else expect(c, `p${i}`).toBe(1)
        }
        // A touched session seen before its update shows up again: the documented asc behaviour.
        expect([...counts.values()].some((c) => c === 2)).toBe(true)
      })
    })

    describe('getSession and getTurns', () => {
      const orgId = randomUUID()

      it('shows totals, parent and children; turns in order with usage and errors', async () => {
        const parent = await seedSession(orgId, 'parent', { start: 0 })
        const child = await seedSession(orgId, 'child', { start: 5, parent: 'parent' })
        await store().ingest(
          makeTurn({
            envelope: { orgId, harnessSessionId: 'child' },
            startedAt: at(9),
            statusCode: 529,
            errorType: 'overloaded_error',
            errorMessage: 'Overloaded',
            usage: { ...usage(0, 0), inputTokens: null, outputTokens: null, status: 'missing' },
            costUsd: null,
            nodes: chain(['child hello', 'child answer 0', 'more']),
            requestLeafHash: chain(['child hello', 'child answer 0', 'more'])[2]!.hash,
            responseHash: null,
          }),
        )
        const detail = await getSession(store().driver, orgId, child)
        expect(detail).toMatchObject({
          id: child,
          turnCount: 2,
          errorCount: 1,
          parent: { id: parent, harnessSessionId: 'parent' },
          children: [],
          childCount: 0,
        })
        expect((await getSession(store().driver, orgId, parent))?.children.map((c) => c.id)).toEqual([child])
        const page = await getTurns(store().driver, orgId, child)
        expect(page?.turns.map((t) => [t.turnIndex, t.isError, t.statusCode])).toEqual([
          [0, false, 200],
          [1, true, 529],
        ])
        expect(page?.turns[1]).toMatchObject({
          usage: { input: null, output: null, status: 'missing' },
          costUsd: null,
          error: { type: 'overloaded_error', message: 'Overloaded' },
          latencyMs: 1200,
        })
        expect(page?.turns[0]).toMatchObject({
          usage: { input: 100, output: 10 },
          costUsd: 0.001,
          latencyMs: 1000,
        })
        const firstOnly = await getTurns(store().driver, orgId, child, { limit: 1 })
        expect(firstOnly).toMatchObject({ nextAfterIndex: 0 })
        expect(
          (await getTurns(store().driver, orgId, child, { afterIndex: 0 }))?.turns.map((t) => t.turnIndex),
        ).toEqual([1])
      })

      it('answers null for another org, an unknown id and a malformed id', async () => {
        const id = await seedSession(orgId, 'mine')
        const other = randomUUID()
        expect(await getSession(store().driver, other, id)).toBeNull()
        expect(await getTurns(store().driver, other, id)).toBeNull()
        expect(await getTranscript(store().driver, other, id)).toBeNull()
        expect(await deleteSession(store().driver, other, id)).toBeNull()
        expect(await getSession(store().driver, orgId, randomUUID())).toBeNull()
        expect(await getSession(store().driver, orgId, 'not-a-uuid')).toBeNull()
        expect(await getSession(store().driver, orgId, id)).not.toBeNull()
      })
    })

    it('rebuilds the transcript with a fork, a side conversation and an unanswered turn', async () => {
      const orgId = randomUUID()
      const envelope = { orgId, harnessSessionId: 'fork' }
      const ingest = (minute: number, texts: string[], answered = true) => {
        const nodes = chain(texts)
        return store().ingest(
          makeTurn({
            envelope,
            startedAt: at(minute),
            nodes,
            requestLeafHash: answered ? nodes.at(-2)!.hash : nodes.at(-1)!.hash,
            responseHash: answered ? nodes.at(-1)!.hash : null,
            ...(answered ? {} : { statusCode: 500, errorType: 'api_error' }),
          }),
        )
      }
      const { sessionId } = await ingest(0, ['u1', 'a1'])
      await ingest(1, ['u1', 'a1', 'u2', 'a2'])
      await ingest(2, ['u1', 'a1', 'u2 edited', 'a2 other'])
      await ingest(3, ['u1', 'a1', 'u2', 'a2', 'u3'], false)
      await ingest(4, ['title please', 'A title'])

      const transcript = await getTranscript(store().driver, orgId, sessionId)
      const texts = (i: number) => transcript!.branches[i]!.messages.map((m) => m.blocks[0]?.text)
      expect(transcript!.branches).toHaveLength(3)
      expect(texts(0)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3'])
      expect(texts(1)).toEqual(['u2 edited', 'a2 other'])
      expect(texts(2)).toEqual(['title please', 'A title'])
      expect(transcript!.branches[1]).toMatchObject({
        forkOf: 0,
        forkAfterHash: chain(['u1', 'a1'])[1]!.hash,
      })
      expect(transcript!.branches[2]).toMatchObject({
        forkOf: null,
        forkAfterHash: null,
        missingParentHash: null,
      })
      const messages = transcript!.branches[0]!.messages
      expect(messages[1]!.responseOf).toEqual([0])
      expect(messages[4]!.requestOf).toEqual([3])
      expect(messages[4]!.responseOf).toEqual([])

      const text = renderTranscriptText(transcript!)
      expect(text).toContain('=== branch 2: forks from branch 1 after message 2 ===')
      expect(text).toContain('#3 [user · request of turn 2]\nu2 edited')
      expect(text).toContain('#5 [user · request of turn 3]\nu3')
      expect(text).toContain('=== branch 3 ===\n#1 [user · request of turn 4]\ntitle please')
    })

    it('deletes a session and its turns; nodes other sessions use stay, its own go', async () => {
      const orgId = randomUUID()
      const otherOrg = randomUUID()
      const first = await store().ingest(
        makeTurn({
          envelope: { orgId, harnessSessionId: 'first' },
          nodes: chain(['shared q', 'shared a', 'mine q', 'mine a']),
        }),
      )
      // The second session reuses the first's prefix (nodes the first session wrote), then continues.
      const second = await store().ingest(
        makeTurn({
          envelope: { orgId, harnessSessionId: 'second' },
          startedAt: at(5),
          nodes: chain(['shared q', 'shared a', 'their q', 'their a']),
        }),
      )
      const child = await seedSession(orgId, 'kid', { parent: 'first', start: 7 })
      const elsewhere = await store().ingest(
        makeTurn({
          envelope: { orgId: otherOrg, harnessSessionId: 'first' },
          nodes: chain(['shared q', 'shared a']),
        }),
      )
      const nodeOwners = async (org: string) =>
        (
          await store().driver.query<{ hash: string; session_id: string }>(
            'SELECT hash, session_id FROM nodes WHERE org_id = $1',
            [org],
          )
        ).rows
      const shared = chain(['shared q', 'shared a']).map((n) => n.hash)
      const own = chain(['shared q', 'shared a', 'mine q', 'mine a'])
        .slice(2)
        .map((n) => n.hash)
      expect(
        (await nodeOwners(orgId)).filter((n) => shared.includes(n.hash)).map((n) => n.session_id),
      ).toEqual([first.sessionId, first.sessionId])

      const result = await deleteSession(store().driver, orgId, first.sessionId)
      expect(result).toEqual({
        sessionId: first.sessionId,
        turnsDeleted: 1,
        nodesDeleted: 2,
        nodesKept: 2,
        childrenDetached: 1,
      })
      expect(await getSession(store().driver, orgId, first.sessionId)).toBeNull()
      const after = await nodeOwners(orgId)
      expect(after.filter((n) => own.includes(n.hash))).toEqual([])
      expect(after.filter((n) => shared.includes(n.hash)).map((n) => n.session_id)).toEqual([
        second.sessionId,
        second.sessionId,
      ])
      // The survivor's transcript is whole; the child is detached, not deleted; the other org is untouched.
      const transcript = await getTranscript(store().driver, orgId, second.sessionId)
      expect(transcript!.branches.map((b) => [b.messages.length, b.missingParentHash])).toEqual([[4, null]])
      expect(await getSession(store().driver, orgId, child)).toMatchObject({
        parentSessionId: null,
        parent: null,
      })
      expect((await nodeOwners(otherOrg)).map((n) => n.session_id)).toEqual([
        elsewhere.sessionId,
        elsewhere.sessionId,
      ])
      expect(await deleteSession(store().driver, orgId, first.sessionId)).toBeNull()
    })

    describe('usage details', () => {
      const orgId = randomUUID()

      it('stores and serves the cache writes by TTL and the web search requests, NULL when not reported', async () => {
        const base = makeTurn({ envelope: { orgId } }).usage
        const detailed = await store().ingest(
          makeTurn({
            envelope: { orgId, harnessSessionId: 'details' },
            usage: { ...base, cacheCreation5mTokens: 4, cacheCreation1hTokens: 6, webSearchRequests: 2 },
          }),
        )
        expect((await getTurns(store().driver, orgId, detailed.sessionId))?.turns[0]?.usage).toMatchObject({
          cacheCreation: 10,
          cacheCreation5m: 4,
          cacheCreation1h: 6,
          webSearchRequests: 2,
        })
        const plain = await store().ingest(makeTurn({ envelope: { orgId, harnessSessionId: 'no-details' } }))
        expect((await getTurns(store().driver, orgId, plain.sessionId))?.turns[0]?.usage).toMatchObject({
          cacheCreation5m: null,
          cacheCreation1h: null,
          webSearchRequests: null,
        })
      })
    })

    describe('provider timing', () => {
      const orgId = randomUUID()

      it('stores and serves the durations the provider reported, null when it reported none', async () => {
        const timing = { totalNs: 4883583458, loadNs: 1334875, promptEvalNs: 342546000, evalNs: 4535599000 }
        const timed = await store().ingest(
          makeTurn({ envelope: { orgId, harnessSessionId: 'timed' }, providerTiming: timing }),
        )
        expect((await getTurns(store().driver, orgId, timed.sessionId))?.turns[0]?.providerTiming).toEqual(
          timing,
        )
        const partial = await store().ingest(
          makeTurn({ envelope: { orgId, harnessSessionId: 'partial' }, providerTiming: { totalNs: 7 } }),
        )
        expect((await getTurns(store().driver, orgId, partial.sessionId))?.turns[0]?.providerTiming).toEqual({
          totalNs: 7,
        })
        const plain = await store().ingest(makeTurn({ envelope: { orgId, harnessSessionId: 'untimed' } }))
        expect((await getTurns(store().driver, orgId, plain.sessionId))?.turns[0]?.providerTiming).toBeNull()
      })
    })

    describe('several choices', () => {
      const orgId = randomUUID()

      it('lists every choice on the turn and shows the other choices as forks of the request', async () => {
        const answer = chain(['pick a colour', 'red'])
        const [request, first] = answer as [(typeof answer)[0], (typeof answer)[0]]
        const other = {
          hash: `${first.hash}-blue`,
          parentHash: request.hash,
          role: 'assistant',
          content: null,
        }
        const otherContent = { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'blue' }] }
        const committed = await store().ingest(
          makeTurn({
            envelope: { orgId, harnessSessionId: 'choices' },
            nodes: [...answer, { ...other, content: otherContent }],
            requestLeafHash: request.hash,
            responseHash: first.hash,
            choiceHashes: [first.hash, other.hash],
          }),
        )
        const page = await getTurns(store().driver, orgId, committed.sessionId)
        expect(page?.turns[0]?.choiceHashes).toEqual([first.hash, other.hash])
        const transcript = await getTranscript(store().driver, orgId, committed.sessionId)
        expect(transcript?.branches.map((b) => b.messages.map((m) => [m.hash, m.responseOf]))).toEqual([
          [
            [request.hash, []],
            [first.hash, [0]],
          ],
          [[other.hash, [0]]],
        ])
        expect(transcript?.branches[1]).toMatchObject({ forkOf: 0, forkAfterHash: request.hash })
      })

      it('has no choice list on a turn with one choice', async () => {
        const committed = await store().ingest(makeTurn({ envelope: { orgId, harnessSessionId: 'one' } }))
        expect(
          (await getTurns(store().driver, orgId, committed.sessionId))?.turns[0]?.choiceHashes,
        ).toBeNull()
      })
    })
  })
}
