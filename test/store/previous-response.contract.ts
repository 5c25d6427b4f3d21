/**
 * The previous_response_id contract, registered per driver beside the store contract: a synthetic
 * turn that continues a stored response joins that response's session, in its own org only.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Turn } from '../../src/session/turn.js'
import type { Store } from '../../src/store/store.js'
import type { StoreHandle } from './store.contract.js'
import { at, chain, makeTurn, type TurnOverrides } from './turn-factory.js'

/** A Responses API turn with a synthetic session named after its (only new) input. */
function responsesTurn(orgId: string, input: string, overrides: TurnOverrides = {}): Turn {
  return makeTurn({
    provider: 'openai',
    api: 'openai.responses',
    nodes: chain([input, `answer to ${input}`]),
    ...overrides,
    envelope: {
      orgId,
      harnessId: 'codex',
      harnessSessionId: `synthetic-${input}`,
      sessionSource: 'synthetic',
      ...overrides.envelope,
    },
  })
}

export function registerPreviousResponseContract(driverName: string, open: () => Promise<StoreHandle>): void {
  describe(`previous_response_id joins (${driverName})`, () => {
    let handle: StoreHandle
    const store = (): Store => handle.store

    beforeAll(async () => {
      handle = await open()
    })
    afterAll(async () => {
      await handle?.cleanup()
    })

    async function sessionKeys(orgId: string): Promise<string[]> {
      const { rows } = await store().driver.query<{ key: string }>(
        `SELECT harness_id || '/' || harness_session_id || ':' || turn_count AS key
         FROM sessions WHERE org_id = $1 ORDER BY started_at, harness_session_id`,
        [orgId],
      )
      return rows.map((row) => row.key)
    }

    it('joins the session of the committed turn whose response it continues, with its turn index', async () => {
      const orgId = randomUUID()
      const first = await store().ingest(
        responsesTurn(orgId, 'one', { providerResponseId: 'resp_1', startedAt: at(1) }),
      )
      const second = await store().ingest(
        responsesTurn(orgId, 'two', {
          previousResponseId: 'resp_1',
          providerResponseId: 'resp_2',
          startedAt: at(2),
        }),
      )
      const third = await store().ingest(
        responsesTurn(orgId, 'three', { previousResponseId: 'resp_2', startedAt: at(3) }),
      )
      expect([second.sessionId, third.sessionId]).toEqual([first.sessionId, first.sessionId])
      expect([first.turnIndex, second.turnIndex, third.turnIndex]).toEqual([0, 1, 2])
      expect(await sessionKeys(orgId)).toEqual(['codex/synthetic-one:3'])
    })

    it('follows a chain of continuations inside one batch', async () => {
      const orgId = randomUUID()
      const results = await store().ingestBatch([
        { turn: responsesTurn(orgId, 'one', { providerResponseId: 'resp_a', startedAt: at(1) }) },
        {
          turn: responsesTurn(orgId, 'two', {
            previousResponseId: 'resp_a',
            providerResponseId: 'resp_b',
            startedAt: at(2),
          }),
        },
        { turn: responsesTurn(orgId, 'three', { previousResponseId: 'resp_b', startedAt: at(3) }) },
      ])
      expect(new Set(results.map((r) => r.sessionId)).size).toBe(1)
      expect(results.map((r) => r.turnIndex)).toEqual([0, 1, 2])
      expect(await sessionKeys(orgId)).toEqual(['codex/synthetic-one:3'])
    })

    it('keeps its synthetic session when the continued response is not committed (and stays there)', async () => {
      const orgId = randomUUID()
      const early = await store().ingest(
        responsesTurn(orgId, 'two', { previousResponseId: 'resp_late', startedAt: at(2) }),
      )
      const late = await store().ingest(
        responsesTurn(orgId, 'one', { providerResponseId: 'resp_late', startedAt: at(1) }),
      )
      expect(early.sessionId).not.toBe(late.sessionId)
      expect(await sessionKeys(orgId)).toEqual(['codex/synthetic-one:1', 'codex/synthetic-two:1'])
    })

    it('never joins a session of another org', async () => {
      const orgA = randomUUID()
      const orgB = randomUUID()
      await store().ingest(
        responsesTurn(orgA, 'one', { providerResponseId: 'resp_shared', startedAt: at(1) }),
      )
      const other = await store().ingest(
        responsesTurn(orgB, 'two', { previousResponseId: 'resp_shared', startedAt: at(2) }),
      )
      expect(other.turnIndex).toBe(0)
      expect(await sessionKeys(orgA)).toEqual(['codex/synthetic-one:1'])
      expect(await sessionKeys(orgB)).toEqual(['codex/synthetic-two:1'])
    })

    it('leaves an explicit session id alone', async () => {
      const orgId = randomUUID()
      await store().ingest(responsesTurn(orgId, 'one', { providerResponseId: 'resp_x', startedAt: at(1) }))
      await store().ingest(
        responsesTurn(orgId, 'two', {
          previousResponseId: 'resp_x',
          startedAt: at(2),
          envelope: { harnessSessionId: 'client-named', sessionSource: 'header:session-id' },
        }),
      )
      expect(await sessionKeys(orgId)).toEqual(['codex/synthetic-one:1', 'codex/client-named:1'])
    })

    it('joins across harness ids: the continued session keeps its own key', async () => {
      const orgId = randomUUID()
      const first = await store().ingest(
        responsesTurn(orgId, 'one', {
          providerResponseId: 'resp_h',
          startedAt: at(1),
          envelope: {
            harnessId: 'opencode',
            harnessSessionId: 'ses_1',
            sessionSource: 'header:x-session-affinity',
          },
        }),
      )
      const next = await store().ingest(
        responsesTurn(orgId, 'two', {
          previousResponseId: 'resp_h',
          startedAt: at(2),
          envelope: { harnessId: 'unknown' },
        }),
      )
      expect(next.sessionId).toBe(first.sessionId)
      expect(await sessionKeys(orgId)).toEqual(['opencode/ses_1:2'])
    })
  })
}
