import zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterForMode } from '../../src/cli/replay.js'
import { runExchange } from '../../src/emulator/emulator.js'
import {
  DEFAULT_FILTER,
  emptyStats,
  type FilterConfig,
  type HttpExchangeSpec,
} from '../../src/emulator/types.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import { startTestServer, type TestServer } from '../helpers/extproc.js'
import { headerMap, openRawStream } from '../helpers/raw-stream.js'

const SSE = Buffer.from(
  'data: {"id":"c1","choices":[{"delta":{"content":"héllo wörld"}}]}\n\ndata: {"id":"c1","choices":[{"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
)
const REQUEST = Buffer.from(
  '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi ✓"}]}',
)
// 100 bytes of SSE compressed once with the zstd CLI (Node 20 has no zstd encoder).
const ZSTD_SSE = Buffer.from(
  'KLUv/SRkXQIA9ANkYXRhOiB7InR5cGUiOiJtZXNzYWdlX3N0YXJ0IiwiOnsiaWQiOiJtc2dfeiIsIm1vZGVsIn19CgpvcCJ9CgoDAEhYDYTmENMJIlJEBg==',
  'base64',
)

function spec(
  overrides: Partial<HttpExchangeSpec['request']> = {},
  response: Partial<HttpExchangeSpec['response']> = {},
): HttpExchangeSpec {
  return {
    request: {
      method: 'POST',
      path: '/v1/chat/completions',
      authority: 'api.openai.com',
      headers: [['content-type', 'application/json']],
      body: REQUEST,
      ...overrides,
    },
    response: { status: 200, headers: [['content-type', 'text/event-stream']], body: SSE, ...response },
  }
}

const SYNC: FilterConfig = {
  ...filterForMode('streamed'),
  messageTimeoutMs: 5000,
  chunking: { kind: 'random', seed: 7, maxChunk: 16 },
}

describe('ext_proc server behaviour', () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer({ captureMaxBytes: 4096 })
  })
  afterAll(() => t.close())

  async function play(s: HttpExchangeSpec, cfg: FilterConfig = SYNC) {
    const before = t.exchanges.length
    const result = await runExchange(t.client, cfg, s, emptyStats())
    return { result, before }
  }
  async function capturedFor(requestId: string) {
    for (let i = 0; i < 100; i++) {
      const found = t.exchanges.find((e) => e.requestId === requestId)
      if (found) return found
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error(`exchange ${requestId} was not captured`)
  }

  it('captures headers, timings, x-request-id, attributes and metadata of an exchange', async () => {
    const cfg: FilterConfig = {
      ...SYNC,
      requestAttributes: ['request.path', 'source.address'],
      responseAttributes: ['response.code'],
      metadata: { 'envoy.filters.http.jwt_authn': { payload: { org_id: 'o-1' } } },
    }
    const { result } = await play(spec(), cfg)
    expect(result.violations).toEqual([])
    const ex = await capturedFor(result.requestId)
    expect(ex.request).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      authority: 'api.openai.com',
    })
    expect(ex.request.headers['content-type']).toBe('application/json')
    expect(ex.response?.status).toBe(200)
    expect(ex.attributes).toMatchObject({ 'request.path': '/v1/chat/completions', 'response.code': 200 })
    expect(ex.metadata['envoy.filters.http.jwt_authn']).toEqual({ payload: { org_id: 'o-1' } })
    expect(ex.timing.startedAt).toBeLessThanOrEqual(ex.timing.firstResponseAt!)
    expect(ex.timing.firstResponseAt!).toBeLessThanOrEqual(ex.timing.endedAt)
    expect(ex.observability).toBe(false)
  })

  it('strips x-tapes-* before the request goes upstream, but keeps them in the capture', async () => {
    const headers: Array<[string, string]> = [
      ['content-type', 'application/json'],
      ['x-tapes-harness-id', 'claude'],
      ['x-tapes-harness-session-id', 's-1'],
    ]
    const { result } = await play(spec({ headers }))
    expect(result.upstreamRequest.headers.filter(([k]) => k.startsWith('x-tapes-'))).toEqual([])
    expect(result.upstreamRequest.headers).toContainEqual(['content-type', 'application/json'])
    const ex = await capturedFor(result.requestId)
    expect(ex.request.headers['x-tapes-harness-session-id']).toBe('s-1')
  })

  it('sends nothing at all in observability mode, and still captures', async () => {
    const cfg: FilterConfig = { ...SYNC, observabilityMode: true, deferredCloseMs: 3000 }
    const headers: Array<[string, string]> = [['x-tapes-harness-id', 'claude']]
    const { result } = await play(spec({ headers }), cfg)
    expect(result.violations).toEqual([])
    expect(result.latencies).toEqual([])
    const ex = await capturedFor(result.requestId)
    expect(ex.observability).toBe(true)
    expect(decodeBody(ex.request.body.chunks, undefined).bytes.equals(REQUEST)).toBe(true)
    expect(decodeBody(ex.response!.body.chunks, undefined).bytes.equals(SSE)).toBe(true)
  })

  it('never keeps credentials: auth headers and ?key= are not captured', async () => {
    const headers: Array<[string, string]> = [
      ['authorization', 'Bearer sk-secret'],
      ['x-api-key', 'sk-ant-secret'],
      ['x-goog-api-key', 'g-secret'],
      ['cookie', 'session=secret'],
      ['content-type', 'application/json'],
    ]
    const { result } = await play(
      spec({ headers, path: '/v1beta/models/gemini-2.0-flash:generateContent?key=AIza-secret&alt=sse' }),
    )
    const ex = await capturedFor(result.requestId)
    expect(JSON.stringify(ex.request)).not.toContain('secret')
    expect(ex.request.path).toBe('/v1beta/models/gemini-2.0-flash:generateContent?alt=sse')
    // The upstream still gets them: sessiontap only observes.
    expect(result.upstreamRequest.headers).toContainEqual(['authorization', 'Bearer sk-secret'])
  })

  it('handles a headers-only exchange (GET, 204) as complete', async () => {
    const { result } = await play(
      spec(
        { method: 'GET', path: '/v1/models', body: Buffer.alloc(0) },
        { status: 204, body: Buffer.alloc(0), headers: [] },
      ),
    )
    expect(result.violations).toEqual([])
    expect(result.latencies.map((l) => l.type)).toEqual(['request_headers', 'response_headers'])
    const ex = await capturedFor(result.requestId)
    expect(ex.ending).toBe('complete')
    expect(ex.request.body.size).toBe(0)
  })

  it('answers trailers with trailer mode SEND and records them', async () => {
    const cfg: FilterConfig = { ...SYNC, requestTrailerMode: 'SEND', responseTrailerMode: 'SEND' }
    const s = spec({ trailers: [['x-req-trailer', 'a']] }, { trailers: [['grpc-status', '0']] })
    const { result } = await play(s, cfg)
    expect(result.violations).toEqual([])
    expect(result.latencies.map((l) => l.type)).toContain('response_trailers')
    const ex = await capturedFor(result.requestId)
    expect(ex.ending).toBe('complete')
    expect(ex.request.trailers).toEqual({ 'x-req-trailer': 'a' })
    expect(ex.response?.trailers).toEqual({ 'grpc-status': '0' })
  })

  it('keeps FIFO per direction when the response starts before the request body is answered', async () => {
    const s = { ...spec(), earlyResponse: true }
    const { result } = await play(s, { ...SYNC, chunking: { kind: 'fixed', size: 3 } })
    expect(result.violations).toEqual([])
    expect(result.downstreamResponse?.body.equals(SSE)).toBe(true)
    const ex = await capturedFor(result.requestId)
    expect(ex.ending).toBe('complete')
  })

  it.each([
    ['gzip', zlib.gzipSync(SSE)],
    ['deflate', zlib.deflateSync(SSE)],
    ['br', zlib.brotliCompressSync(SSE)],
  ])('decodes a %s response body captured in chunks', async (encoding, encoded) => {
    const { result } = await play(spec({}, { headers: [['content-encoding', encoding]], body: encoded }))
    expect(result.downstreamResponse?.body.equals(encoded)).toBe(true)
    const ex = await capturedFor(result.requestId)
    const decoded = decodeBody(ex.response!.body.chunks, ex.response!.body.encoding)
    expect(decoded.error).toBeUndefined()
    expect(decoded.bytes.equals(SSE)).toBe(true)
  })

  it('decodes a zstd response body', async () => {
    const { result } = await play(spec({}, { headers: [['content-encoding', 'zstd']], body: ZSTD_SSE }))
    const ex = await capturedFor(result.requestId)
    const decoded = decodeBody(ex.response!.body.chunks, 'zstd')
    expect(decoded.error).toBeUndefined()
    expect(decoded.bytes.toString()).toContain('"type":"message_stop"')
  })

  it('yields what a truncated gzip stream holds, with the reason', () => {
    const big = Buffer.from(Array.from({ length: 400 }, (_, i) => `data: {"n":${i}}\n\n`).join(''))
    const gz = zlib.gzipSync(big)
    const cut = decodeBody([gz.subarray(0, Math.floor(gz.length * 0.6))], 'gzip')
    expect(cut.error).toBe('truncated compressed stream')
    expect(cut.bytes.length).toBeGreaterThan(0)
    expect(big.subarray(0, cut.bytes.length).equals(cut.bytes)).toBe(true)
  })

  it('stops capturing an exchange over the budget, counts it, and still forwards every byte', async () => {
    const body = Buffer.alloc(10_000, 'a')
    const { result } = await play(spec({ body }))
    expect(result.violations).toEqual([])
    expect(result.upstreamRequest.body.equals(body)).toBe(true)
    await new Promise((r) => setTimeout(r, 50))
    expect(t.exchanges.find((e) => e.requestId === result.requestId)).toBeUndefined()
    const dropped = await t.metrics.exchangesDropped.get()
    expect(dropped.values.find((v) => v.labels.reason === 'over_budget')?.value).toBeGreaterThanOrEqual(1)
  })

  it('ends the call itself with OK after the last reply, before Envoy resets it', async () => {
    const raw = openRawStream(t.client)
    raw.call.write({
      request_headers: {
        headers: headerMap([
          [':method', 'POST'],
          [':path', '/v1/messages'],
        ]),
        end_of_stream: false,
      },
    })
    raw.call.write({ request_body: { body: Buffer.from('{}'), end_of_stream: true } })
    raw.call.write({ response_headers: { headers: headerMap([[':status', '200']]), end_of_stream: false } })
    raw.call.write({ response_body: { body: Buffer.from('{}'), end_of_stream: true } })
    const status = await raw.status
    expect(status.code).toBe(0)
    expect(raw.replies.map((r) => r.response)).toEqual([
      'request_headers',
      'request_body',
      'response_headers',
      'response_body',
    ])
  })

  it('records a stream reset in the middle of the response body as a reset exchange', async () => {
    const raw = openRawStream(t.client)
    raw.call.write({
      request_headers: {
        headers: headerMap([
          [':method', 'POST'],
          [':path', '/v1/messages'],
          ['x-request-id', 'reset-1'],
        ]),
      },
    })
    raw.call.write({ request_body: { body: Buffer.from('{}'), end_of_stream: true } })
    raw.call.write({ response_headers: { headers: headerMap([[':status', '200']]) } })
    raw.call.write({ response_body: { body: Buffer.from('data: {"a"'), end_of_stream: false } })
    await raw.waitForReplies(4)
    raw.call.cancel()
    const ex = await capturedFor('reset-1')
    expect(ex.ending).toBe('reset')
    expect(ex.response?.body.stopped).toBe('stream_reset')
    expect(decodeBody(ex.response!.body.chunks, undefined).bytes.toString()).toBe('data: {"a"')
  })

  it('a default-config Envoy (NONE bodies, 200 ms timeout) gets every reply in time', async () => {
    const { result } = await play(spec(), {
      ...DEFAULT_FILTER,
      requestBodyMode: 'NONE',
      responseBodyMode: 'NONE',
    })
    expect(result.violations).toEqual([])
    expect(result.localReply).toBeUndefined()
  })
})
