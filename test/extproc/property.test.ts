import * as grpc from '@grpc/grpc-js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterForMode } from '../../src/cli/replay.js'
import { createExtProcClient } from '../../src/emulator/client.js'
import { runExchange } from '../../src/emulator/emulator.js'
import { emptyStats } from '../../src/emulator/types.js'
import { type ProcessingRequest, REQUEST_KINDS } from '../../src/extproc/messages.js'
import { startTestServer, type TestServer } from '../helpers/extproc.js'
import { headerMap, openRawStream } from '../helpers/raw-stream.js'

/** One message of any kind, in any order, with random flags and bytes; sometimes with no kind at all. */
const message: fc.Arbitrary<ProcessingRequest> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .record({
        kind: fc.constantFrom(...REQUEST_KINDS),
        eos: fc.boolean(),
        bytes: fc.uint8Array({ maxLength: 64 }),
        observability: fc.boolean().map((b) => b && Math.random() < 0.2),
        header: fc.tuple(
          fc.constantFrom(
            ':path',
            ':status',
            'content-encoding',
            'x-request-id',
            'authorization',
            'x-tapes-cwd',
          ),
          fc.string({ maxLength: 20 }),
        ),
      })
      .map(({ kind, eos, bytes, observability, header }): ProcessingRequest => {
        const msg: ProcessingRequest = kind.endsWith('headers')
          ? { [kind]: { headers: headerMap([header]), end_of_stream: eos } }
          : kind.endsWith('body')
            ? { [kind]: { body: Buffer.from(bytes), end_of_stream: eos } }
            : { [kind]: { trailers: headerMap([header]) } }
        if (observability) msg.observability_mode = true
        return msg
      }),
  },
  { weight: 1, arbitrary: fc.constant({} as ProcessingRequest) },
)

/**
 * Random message sequences per run: 10,000 in `npm test` (about 25 s here), and as many as
 * SESSIONTAP_FUZZ_RUNS says for a long run (`npm run fuzz`: 1,000,000).
 */
const FUZZ_RUNS = Number(process.env.SESSIONTAP_FUZZ_RUNS ?? 10_000)
/** Time each case may take on a slow machine, for the test's own timeout. */
const FUZZ_TIMEOUT_MS = 60_000 + FUZZ_RUNS * 10

/**
 * Streams per connection, as envoy/*.yaml caps the ext_proc cluster: about half the cases reset their
 * stream, and Node < 22.10 closes a connection after about 1,000 resets (reset-guard.ts).
 */
const STREAMS_PER_CONNECTION = 500

const SPEC = {
  request: {
    method: 'POST',
    path: '/v1/messages',
    authority: 'a',
    headers: [] as Array<[string, string]>,
    body: Buffer.from('{"model":"m"}'),
  },
  response: { status: 200, headers: [] as Array<[string, string]>, body: Buffer.from('{"id":"x"}') },
}

describe('ext_proc server under random, truncated and malformed message sequences', () => {
  let t: TestServer
  beforeAll(async () => {
    // Exchanges are not kept: a long run (`npm run fuzz`) would hold every one of them.
    t = await startTestServer({ consumer: { consume() {} } })
  })
  afterAll(() => t.close())

  it(
    'replies to each message that has a type, in order, never to the others, and never crashes',
    async () => {
      let client = createExtProcClient(t.server.address)
      let streams = 0
      await fc.assert(
        fc.asyncProperty(fc.array(message, { maxLength: 12 }), fc.boolean(), async (messages, cancel) => {
          if (++streams > STREAMS_PER_CONNECTION) {
            client.close()
            client = createExtProcClient(t.server.address)
            streams = 1
          }
          const raw = openRawStream(client)
          for (const m of messages) raw.call.write(m)
          if (cancel) raw.reset()
          else raw.call.end()
          const status = await raw.status
          if (cancel) return
          const expected = messages.filter((m) =>
            Object.keys(m).some(
              (k) => k.includes('_') && !k.startsWith('observability') && !m.observability_mode,
            ),
          )
          const expectedKinds = expected.map((m) => REQUEST_KINDS.find((k) => k in m))
          // A prefix: the server may end the call (OK) once the response has ended.
          expect(raw.replies.map((r) => r.response)).toEqual(expectedKinds.slice(0, raw.replies.length))
          expect(status.code).toBe(grpc.status.OK)
        }),
        { numRuns: FUZZ_RUNS },
      )
      // Every stream was ended or reset: the server holds none of them, before the connection closes.
      expect(await t.activeStreamsSettled()).toBe(0)
      client.close()
      // Still serving normal traffic afterwards.
      const result = await runExchange(
        t.client,
        { ...filterForMode('streamed'), messageTimeoutMs: 5000 },
        SPEC,
        emptyStats(),
      )
      expect(result.violations).toEqual([])
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    'survives bytes that are not a ProcessingRequest at all and keeps serving other streams',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 200 }), async (bytes) => {
          const call = t.client.makeBidiStreamRequest(
            '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
            (b: Buffer) => b,
            (b: Buffer) => b,
          )
          call.on('data', () => {})
          call.on('error', () => {})
          const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve))
          call.write(Buffer.from(bytes))
          call.end()
          const s = await status
          // Bytes that happen to decode end the call; the rest close the connection (UNAVAILABLE).
          expect([
            grpc.status.OK,
            grpc.status.INTERNAL,
            grpc.status.CANCELLED,
            grpc.status.UNAVAILABLE,
          ]).toContain(s.code)
        }),
        { numRuns: Math.max(60, Math.round(FUZZ_RUNS / 100)) },
      )
      const result = await runExchange(
        t.client,
        { ...filterForMode('buffered'), messageTimeoutMs: 5000 },
        SPEC,
        emptyStats(),
      )
      expect(result.violations).toEqual([])
      expect(result.downstreamResponse?.body.toString()).toBe('{"id":"x"}')
    },
    FUZZ_TIMEOUT_MS,
  )
})
