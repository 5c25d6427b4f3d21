import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import { parseSpoolLine, spoolRecord } from '../../src/recorder/spool.js'
import { buildTurn, type TurnBuildOptions } from '../../src/recorder/turn-builder.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import { NIL_ORG, type RawBody, type Turn } from '../../src/session/turn.js'
import { decompressRawBody, RAW_BODY_MAX_BYTES } from '../../src/store/raw-body-codec.js'
import {
  ANTHROPIC_RESPONSE,
  anthropicExchange,
  body,
  chunked,
  exchange,
  OPENAI_STREAM,
  openaiRequest,
} from './exchanges.js'

const OPTIONS: TurnBuildOptions = {
  envelope: DEFAULT_ENVELOPE_OPTIONS,
  prices: DEFAULT_PRICES,
  storeContent: true,
}

function built(result: ReturnType<typeof buildTurn>): Turn {
  if (!result.ok) throw new Error(`dropped: ${result.reason} ${result.detail ?? ''}`)
  return result.turn
}

describe('buildTurn', () => {
  it('builds an OpenAI streamed turn with usage, timing, chain and cost', () => {
    const turn = built(buildTurn(exchange({ requestBody: chunked(openaiRequest(), 7) }), OPTIONS))
    expect(turn).toMatchObject({
      requestId: 'req-1',
      provider: 'openai',
      api: 'openai.chat',
      model: 'gpt-4o-mini',
      responseModel: 'gpt-4o-mini-2024-07-18',
      statusCode: 200,
      isStreaming: true,
      isComplete: true,
      stopReason: 'stop',
      usage: { inputTokens: 12, outputTokens: 2, status: 'reported' },
      latencyMs: 1000,
      ttftMs: 250,
      providerResponseId: 'chatcmpl-1',
      errorType: null,
      errorMessage: null,
    })
    expect(turn.startedAt).toEqual(new Date(1_700_000_000_000))
    expect(turn.envelope.orgId).toBe(NIL_ORG)
    expect(turn.envelope.sessionSource).toBe('synthetic')
    // system, user, assistant: each child points at its parent; the response is the last node.
    expect(turn.nodes.map((n) => n.role)).toEqual(['system', 'user', 'assistant'])
    expect(turn.nodes[1]?.parentHash).toBe(turn.nodes[0]?.hash)
    expect(turn.requestLeafHash).toBe(turn.nodes[1]?.hash)
    expect(turn.responseHash).toBe(turn.nodes[2]?.hash)
    expect(JSON.stringify(turn.nodes[2]?.content)).toContain('Hello')
    expect(turn.costUsd).toBeGreaterThan(0)
  })

  it('builds an Anthropic non-streamed turn', () => {
    const turn = built(buildTurn(anthropicExchange(), OPTIONS))
    expect(turn).toMatchObject({
      provider: 'anthropic',
      api: 'anthropic.messages',
      isStreaming: false,
      isComplete: true,
      stopReason: 'end_turn',
      usage: { inputTokens: 20, outputTokens: 3 },
      providerResponseId: 'msg_01',
    })
    expect(turn.costUsd).not.toBeNull()
  })

  it('carries the durations an Ollama done line reports (through the spool too), and none for a provider that sends none', () => {
    const ollama = exchange({
      path: '/api/chat',
      requestBody: body(
        Buffer.from(JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] })),
      ),
      responseHeaders: { 'content-type': 'application/x-ndjson' },
      responseBody: body(
        Buffer.from(
          [
            { model: 'llama3.2', message: { role: 'assistant', content: 'Hello' }, done: false },
            {
              model: 'llama3.2',
              message: { role: 'assistant', content: '' },
              done: true,
              done_reason: 'stop',
              total_duration: 4883583458,
              load_duration: 1334875,
              prompt_eval_count: 26,
              prompt_eval_duration: 342546000,
              eval_count: 282,
              eval_duration: 4535599000,
            },
          ]
            .map((line) => `${JSON.stringify(line)}\n`)
            .join(''),
        ),
      ),
    })
    const turn = built(buildTurn(ollama, OPTIONS))
    const spooled = parseSpoolLine(JSON.stringify(spoolRecord(turn, 'drain')))
    expect(spooled.ok && spooled.turn.providerTiming).toEqual(turn.providerTiming)
    expect(turn).toMatchObject({
      api: 'ollama.chat',
      isComplete: true,
      usage: { inputTokens: 26, outputTokens: 282 },
      latencyMs: 1000,
      providerTiming: { totalNs: 4883583458, loadNs: 1334875, promptEvalNs: 342546000, evalNs: 4535599000 },
    })
    expect(built(buildTurn(anthropicExchange(), OPTIONS)).providerTiming).toBeNull()
  })

  it('decodes a gzip response and gets the same turn as the identity one', () => {
    const plain = built(buildTurn(exchange(), OPTIONS))
    const gz = gzipSync(OPENAI_STREAM)
    const gzipped = built(
      buildTurn(exchange({ responseBody: chunked(gz, 13, { encoding: 'gzip' }) }), OPTIONS),
    )
    expect(gzipped).toEqual(plain)
  })

  it('keeps what a truncated gzip stream held and marks the turn incomplete', () => {
    const gz = gzipSync(OPENAI_STREAM)
    const truncated = gz.subarray(0, Math.floor(gz.length * 0.8))
    const result = buildTurn(
      exchange({
        responseBody: body(truncated, { encoding: 'gzip', complete: false, stopped: 'stream_reset' }),
        ending: 'reset',
      }),
      OPTIONS,
    )
    const turn = built(result)
    expect(turn.isComplete).toBe(false)
    expect(turn.responseHash).not.toBeNull()
    expect(result.ok && result.notes.some((n) => n.startsWith('response decode'))).toBe(true)
  })

  it('reports refused envelope values apart from the turn, which falls back to the next source', () => {
    const result = buildTurn(
      exchange({
        requestHeaders: {
          'x-tapes-harness-id': 'claude',
          'x-tapes-harness-session-id': 'bad\u0001id',
          'x-tapes-org-id': '6f1c7a52-8b9e-4a31-9d2f-0c1e5b7a9d10',
        },
      }),
      OPTIONS,
    )
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.rejected).toContain('header:x-tapes-org-id:client_org_not_allowed')
    expect(result.rejected.some((r) => r.startsWith('header:x-tapes-harness-session-id:'))).toBe(true)
    expect(result.turn.envelope.harnessSessionId).not.toContain('\u0001')
    expect(result.turn.envelope.orgId).toBe('00000000-0000-0000-0000-000000000000')
  })

  it('marks a stream cut before [DONE] incomplete even when the exchange completed', () => {
    const cut = OPENAI_STREAM.subarray(0, OPENAI_STREAM.indexOf('data: {', 200))
    const turn = built(buildTurn(exchange({ responseBody: body(cut) }), OPTIONS))
    expect(turn.isComplete).toBe(false)
    expect(turn.usage.status).not.toBe('reported')
  })

  it('turns a reset exchange that has a response into an incomplete turn', () => {
    const turn = built(buildTurn(exchange({ ending: 'reset' }), OPTIONS))
    expect(turn.isComplete).toBe(false)
  })

  it('records provider errors as error turns', () => {
    const error = Buffer.from(JSON.stringify({ error: { type: 'rate_limit_error', message: 'slow down' } }))
    const turn = built(
      buildTurn(
        exchange({
          status: 429,
          responseHeaders: { 'content-type': 'application/json' },
          responseBody: body(error),
        }),
        OPTIONS,
      ),
    )
    expect(turn).toMatchObject({ statusCode: 429, errorMessage: 'slow down', responseHash: null })
  })

  it('names the provider from the request authority, the configured map first; prices under that provider', () => {
    const groq = built(buildTurn(exchange({ authority: 'api.groq.com' }), OPTIONS))
    expect(groq).toMatchObject({ provider: 'groq', api: 'openai.chat', isComplete: true })
    expect(groq.costUsd).toBeNull() // gpt-4o-mini has a price under openai only
    const mapped = { ...OPTIONS, providerHosts: { 'llm.internal:8000': 'vllm' } }
    expect(built(buildTurn(exchange({ authority: 'LLM.internal:8000' }), mapped)).provider).toBe('vllm')
    for (const authority of ['', 'x'.repeat(100_000), '__proto__', 'constructor', '[::1', 'a b'])
      expect(built(buildTurn(exchange({ authority }), mapped)).provider).toBe('openai')
  })

  it('drops unknown paths as not_llm_api with detectApi reason', () => {
    expect(buildTurn(exchange({ path: '/v1/files' }), OPTIONS)).toEqual({
      ok: false,
      reason: 'not_llm_api',
      detail: 'unknown_path',
    })
  })

  it('drops exchanges without a response, over budget or unparseable, with their reasons', () => {
    expect(buildTurn(exchange({ noResponse: true }), OPTIONS)).toMatchObject({
      ok: false,
      reason: 'no_response',
    })
    expect(
      buildTurn(
        exchange({ requestBody: body(Buffer.from('{"mo'), { complete: false, stopped: 'over_budget' }) }),
        OPTIONS,
      ),
    ).toMatchObject({ ok: false, reason: 'over_budget' })
    expect(buildTurn(exchange({ requestBody: body(Buffer.from('not json')) }), OPTIONS)).toMatchObject({
      ok: false,
      reason: 'request_parse',
    })
    expect(
      buildTurn(exchange({ requestBody: body(Buffer.from('garbage'), { encoding: 'gzip' }) }), OPTIONS),
    ).toMatchObject({ ok: false, reason: 'request_decode' })
    expect(
      buildTurn(
        exchange({ responseBody: body(Buffer.from([0x1f, 0x8b, 1]), { encoding: 'gzip' }) }),
        OPTIONS,
      ),
    ).toMatchObject({ ok: false, reason: 'response_decode' })
  })

  it('keeps hashes, roles and links but no content when storeContent is false', () => {
    const full = built(buildTurn(exchange(), OPTIONS))
    const bare = built(buildTurn(exchange(), { ...OPTIONS, storeContent: false }))
    expect(bare.nodes.map((n) => n.content)).toEqual([null, null, null])
    expect(bare.nodes.map(({ hash, parentHash, role }) => ({ hash, parentHash, role }))).toEqual(
      full.nodes.map(({ hash, parentHash, role }) => ({ hash, parentHash, role })),
    )
    expect(bare.envelope).toEqual(full.envelope)
  })

  it('prices by the response model and leaves unknown models unpriced', () => {
    const unknown = Buffer.from(
      ANTHROPIC_RESPONSE.toString().replaceAll('claude-sonnet-4-5-20250929', 'mystery-1'),
    )
    const base = anthropicExchange()
    const turn = built(buildTurn({ ...base, response: { ...base.response!, body: body(unknown) } }, OPTIONS))
    expect(turn.responseModel).toBe('mystery-1')
    expect(turn.costUsd).toBeNull()
  })
})

describe('buildTurn: raw bodies', () => {
  const decoded = (raw: RawBody) => decompressRawBody(raw.bytes, 'br')

  it('keeps the decoded request and response, compressed, whole', () => {
    const request = openaiRequest('Hello <session> world')
    const raw = built(
      buildTurn(
        exchange({
          requestBody: chunked(request, 9),
          responseHeaders: { 'content-encoding': 'gzip' },
          responseBody: body(gzipSync(OPENAI_STREAM), { encoding: 'gzip' }),
        }),
        OPTIONS,
      ),
    ).rawBodies!
    expect(raw.encoding).toBe('br')
    expect(decoded(raw.request).equals(request)).toBe(true)
    expect(decoded(raw.response).equals(OPENAI_STREAM)).toBe(true)
    expect(raw.request).toMatchObject({ size: request.length, truncated: false })
    expect(raw.response).toMatchObject({ size: OPENAI_STREAM.length, truncated: false })
    expect(raw.response.bytes.length).toBeLessThan(OPENAI_STREAM.length)
  })

  it('keeps the first RAW_BODY_MAX_BYTES of a longer body, flagged truncated', () => {
    const request = openaiRequest('a'.repeat(RAW_BODY_MAX_BYTES + 1000))
    const raw = built(buildTurn(exchange({ requestBody: body(request) }), OPTIONS)).rawBodies!
    expect(raw.request).toMatchObject({ size: request.length, truncated: true })
    expect(decoded(raw.request).equals(request.subarray(0, RAW_BODY_MAX_BYTES))).toBe(true)
  })

  it('flags a response the capture did not get to its end', () => {
    const cut = OPENAI_STREAM.subarray(0, 100)
    const raw = built(buildTurn(exchange({ responseBody: body(cut, { complete: false }) }), OPTIONS))
      .rawBodies!
    expect(raw.response).toMatchObject({ size: 100, truncated: true })
    expect(decoded(raw.response).equals(cut)).toBe(true)
  })

  it('stores none when storeRaw or storeContent is false', () => {
    expect(built(buildTurn(exchange(), { ...OPTIONS, storeRaw: false })).rawBodies).toBeNull()
    expect(built(buildTurn(exchange(), { ...OPTIONS, storeContent: false })).rawBodies).toBeNull()
  })

  it('survives the spool: a JSON line gives the same bytes back', () => {
    const turn = built(buildTurn(exchange(), OPTIONS))
    const line = JSON.stringify(spoolRecord(turn, 'overflow'))
    const entry = parseSpoolLine(line)
    if (!entry.ok) throw new Error(entry.error)
    const back = entry.turn.rawBodies!
    expect(decoded(back.request).equals(decoded(turn.rawBodies!.request))).toBe(true)
    expect(decoded(back.response).equals(OPENAI_STREAM)).toBe(true)
    expect(back.response.size).toBe(turn.rawBodies!.response.size)
  })
})

describe('buildTurn redacts credentials before hashing and storing', () => {
  const KEY = `sk-ant-api03-${'q7W8e9R0'.repeat(10)}`
  const conversation = (turns: string[]) =>
    Buffer.from(
      JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: turns.map((text, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: text })),
      }),
    )

  it('keeps no copy of the key in nodes or raw bodies, counts it, and chains the next turn', () => {
    const first = buildTurn(exchange({ requestBody: body(conversation([`my key is ${KEY}`])) }), OPTIONS)
    if (!first.ok) throw new Error(first.reason)
    expect(first.redacted).toBe(1)
    expect(JSON.stringify(first.turn.nodes)).not.toContain(KEY)
    expect(JSON.stringify(first.turn.nodes)).toContain('my key is [REDACTED:anthropic_key]')
    const raw = first.turn.rawBodies!
    const request = decompressRawBody(raw.request.bytes, raw.encoding).toString('utf8')
    expect(request).not.toContain(KEY)
    expect(request).toContain('[REDACTED:anthropic_key]')

    // The next call resends the message: it redacts alike, so its first node is the same node.
    const second = built(
      buildTurn(
        exchange({
          requestId: 'req-2',
          requestBody: body(conversation([`my key is ${KEY}`, 'Hello', 'again'])),
        }),
        OPTIONS,
      ),
    )
    expect(second.nodes[0]!.hash).toBe(first.turn.nodes[0]!.hash)
  })

  it('stores the key as sent when redaction is switched off', () => {
    const turn = built(
      buildTurn(exchange({ requestBody: body(conversation([`my key is ${KEY}`])) }), {
        ...OPTIONS,
        redact: false,
      }),
    )
    expect(JSON.stringify(turn.nodes)).toContain(KEY)
  })
})
