/**
 * Raw bodies end to end on one driver: exchanges go through a recorder with a parse worker (as the
 * default configuration runs), the store writes turn_bodies, and the read side gives back the
 * decoded bodies byte for byte. Each test uses its own org.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Exchange } from '../../src/exchange.js'
import { silentLogger } from '../../src/log.js'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import { createRecorder } from '../../src/recorder/recorder.js'
import type { TurnBuildOptions } from '../../src/recorder/turn-builder.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import type { IngestResult } from '../../src/store/ingest.js'
import { decompressRawBody } from '../../src/store/raw-body-codec.js'
import { deleteSession } from '../../src/store/read/index.js'
import { getTurnRaw } from '../../src/store/turn-bodies.js'
import {
  ANTHROPIC_REQUEST,
  ANTHROPIC_RESPONSE,
  body,
  chunked,
  exchange,
  OPENAI_STREAM,
} from '../recorder/exchanges.js'
import { waitFor } from '../recorder/wait.js'
import type { StoreHandle } from './store.contract.js'

/** A request whose words a projection could lose: a system prompt that mentions a harness tag. */
const OPENAI_REQUEST = Buffer.from(
  JSON.stringify({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [
      {
        role: 'system',
        content: 'Titles go inside <session> tags.\nAnswer in Français, 日本語 or emoji 🎉.',
      },
      { role: 'user', content: '<system-reminder>\nkeep me in the raw view\n</system-reminder>\nHi' },
    ],
  }),
)

function exchanges(orgId: string): Exchange[] {
  const headers = { 'x-paper-auth-org-id': orgId }
  return [
    exchange({
      requestId: `${orgId}-openai`,
      requestHeaders: headers,
      requestBody: chunked(OPENAI_REQUEST, 50),
      responseHeaders: { 'content-encoding': 'gzip' },
      responseBody: body(gzipSync(OPENAI_STREAM), { encoding: 'gzip' }),
    }),
    exchange({
      requestId: `${orgId}-anthropic`,
      path: '/v1/messages',
      requestHeaders: headers,
      requestBody: body(ANTHROPIC_REQUEST),
      responseHeaders: { 'content-type': 'application/json' },
      responseBody: body(ANTHROPIC_RESPONSE),
    }),
  ]
}

/** What each exchange said, decoded: what the raw view must give back. */
const SAID = [
  { request: OPENAI_REQUEST, response: OPENAI_STREAM },
  { request: ANTHROPIC_REQUEST, response: ANTHROPIC_RESPONSE },
]

export function registerRawBodiesContract(driverName: string, open: () => Promise<StoreHandle>): void {
  describe(`raw bodies (${driverName}, one parse worker)`, () => {
    let handle: StoreHandle
    let dataDir: string
    beforeAll(async () => {
      handle = await open()
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-raw-'))
    })
    afterAll(async () => {
      await handle?.cleanup()
      rmSync(dataDir, { recursive: true, force: true })
    })

    /** Records the exchanges of a fresh org with these build options; the results in exchange order. */
    async function record(
      build: Partial<TurnBuildOptions>,
    ): Promise<{ orgId: string; results: IngestResult[] }> {
      const orgId = randomUUID()
      const committed = new Map<string, IngestResult>()
      const recorder = createRecorder({
        store: handle.store,
        buildOptions: {
          envelope: DEFAULT_ENVELOPE_OPTIONS,
          prices: DEFAULT_PRICES,
          storeContent: true,
          ...build,
        },
        parseWorkers: 1,
        writers: 1,
        queueSize: 100,
        dataDir,
        logger: silentLogger,
        registry: new Registry(),
        onCommitted: (turn, result) => committed.set(turn.requestId, result),
      })
      await recorder.start()
      const sent = exchanges(orgId)
      for (const e of sent) recorder.consume(e)
      await waitFor('both turns committed', () => committed.size === sent.length)
      await recorder.drain(1000)
      return { orgId, results: sent.map((e) => committed.get(e.requestId)!) }
    }

    async function bodyRows(orgId: string) {
      const { rows } = await handle.store.driver.query<{
        turn_id: string
        encoding: string
        request: Uint8Array
        request_size: string
        request_truncated: boolean
        response: Uint8Array
        response_size: string
        response_truncated: boolean
      }>('SELECT * FROM turn_bodies WHERE org_id = $1', [orgId])
      return rows
    }

    it('stores each turn its decoded request and response, byte for byte', async () => {
      const { orgId, results } = await record({})
      const rows = await bodyRows(orgId)
      expect(rows).toHaveLength(2)
      for (const [i, result] of results.entries()) {
        const row = rows.find((r) => r.turn_id === result.turnId)!
        expect(row.encoding).toBe('br')
        expect(Buffer.compare(decompressRawBody(row.request, row.encoding), SAID[i]!.request)).toBe(0)
        expect(Buffer.compare(decompressRawBody(row.response, row.encoding), SAID[i]!.response)).toBe(0)
        expect([Number(row.request_size), Number(row.response_size)]).toEqual([
          SAID[i]!.request.length,
          SAID[i]!.response.length,
        ])
        expect([row.request_truncated, row.response_truncated]).toEqual([false, false])
      }
    })

    it('reads them back by turn index and by turn id, org-scoped', async () => {
      const { orgId, results } = await record({})
      const first = results[0]!
      const byIndex = await getTurnRaw(handle.store.driver, orgId, first.sessionId, {
        index: first.turnIndex,
      })
      expect(byIndex).toEqual({
        turnId: first.turnId,
        turnIndex: first.turnIndex,
        raw: {
          request: { text: OPENAI_REQUEST.toString('utf8'), size: OPENAI_REQUEST.length, truncated: false },
          response: { text: OPENAI_STREAM.toString('utf8'), size: OPENAI_STREAM.length, truncated: false },
        },
      })
      expect(byIndex?.raw?.request.text).toContain('keep me in the raw view')
      expect(await getTurnRaw(handle.store.driver, orgId, first.sessionId, { id: first.turnId })).toEqual(
        byIndex,
      )
      expect(
        await getTurnRaw(handle.store.driver, randomUUID(), first.sessionId, { id: first.turnId }),
      ).toBeNull()
      expect(await getTurnRaw(handle.store.driver, orgId, first.sessionId, { index: 99 })).toBeNull()
    })

    it.each([
      ['SESSIONTAP_STORE_RAW=false', { storeRaw: false }],
      ['SESSIONTAP_STORE_CONTENT=false', { storeContent: false }],
    ])('%s stores no raw bodies', async (_name, build) => {
      const { orgId, results } = await record(build)
      expect(await bodyRows(orgId)).toEqual([])
      const first = results[0]!
      const read = await getTurnRaw(handle.store.driver, orgId, first.sessionId, { index: first.turnIndex })
      expect(read).toEqual({ turnId: first.turnId, turnIndex: first.turnIndex, raw: null })
    })

    it('deleting the session deletes its raw bodies', async () => {
      const { orgId, results } = await record({})
      expect(await bodyRows(orgId)).toHaveLength(2)
      for (const sessionId of new Set(results.map((r) => r.sessionId)))
        await deleteSession(handle.store.driver, orgId, sessionId)
      expect(await bodyRows(orgId)).toEqual([])
    })
  })
}
