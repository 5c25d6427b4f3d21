/** Small hand-written Exchanges (OpenAI stream, Anthropic JSON) for recorder tests, and their HTTP specs. */
import { gzipSync } from 'node:zlib'
import type { HttpExchangeSpec } from '../../src/emulator/types.js'
import type { CapturedBody, Exchange, ExchangeEnding, HeaderMap } from '../../src/exchange.js'

export function body(bytes: Buffer, options: Partial<CapturedBody> = {}): CapturedBody {
  return { chunks: [bytes], size: bytes.length, encoding: undefined, complete: true, ...options }
}

/** Splits a body into chunks like Envoy's streamed body messages. */
export function chunked(bytes: Buffer, size: number, options: Partial<CapturedBody> = {}): CapturedBody {
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size))
  return { chunks, size: bytes.length, encoding: undefined, complete: true, ...options }
}

export function openaiRequest(text = 'Say hello', stream = true): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: 'gpt-4o-mini',
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: text },
      ],
    }),
  )
}

const chunk = (payload: object) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18', ...payload })}\n\n`

export const OPENAI_STREAM = Buffer.from(
  [
    chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] }),
    chunk({ choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: null }] }),
    chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    chunk({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 } }),
    'data: [DONE]\n\n',
  ].join(''),
)

export const ANTHROPIC_REQUEST = Buffer.from(
  JSON.stringify({
    model: 'claude-sonnet-4-5-20250929',
    max_tokens: 100,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'Hi there' }],
  }),
)

export const ANTHROPIC_RESPONSE = Buffer.from(
  JSON.stringify({
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: 'Hello!' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 20, output_tokens: 3, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  }),
)

export interface ExchangeParts {
  requestId?: string
  path?: string
  /** The request's :authority; api.openai.com when absent. */
  authority?: string
  requestHeaders?: HeaderMap
  requestBody?: CapturedBody
  responseHeaders?: HeaderMap
  responseBody?: CapturedBody
  status?: number
  ending?: ExchangeEnding
  noResponse?: boolean
}

export function exchange(parts: ExchangeParts = {}): Exchange {
  const requestBody = parts.requestBody ?? body(openaiRequest())
  return {
    requestId: parts.requestId ?? 'req-1',
    request: {
      method: 'POST',
      path: parts.path ?? '/v1/chat/completions',
      authority: parts.authority ?? 'api.openai.com',
      scheme: 'https',
      headers: { 'content-type': 'application/json', ...parts.requestHeaders },
      body: requestBody,
    },
    ...(parts.noResponse
      ? {}
      : {
          response: {
            status: parts.status ?? 200,
            headers: { 'content-type': 'text/event-stream', ...parts.responseHeaders },
            body: parts.responseBody ?? body(OPENAI_STREAM),
          },
        }),
    timing: { startedAt: 1_700_000_000_000, firstResponseAt: 1_700_000_000_250, endedAt: 1_700_000_001_000 },
    ending: parts.ending ?? (parts.noResponse ? 'no_response' : 'complete'),
    observability: false,
    attributes: {},
    metadata: {},
  }
}

export function anthropicExchange(requestId = 'req-a'): Exchange {
  return exchange({
    requestId,
    path: '/v1/messages',
    authority: 'api.anthropic.com',
    requestBody: body(ANTHROPIC_REQUEST),
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: body(ANTHROPIC_RESPONSE),
  })
}

/** An OpenAI streamed call as the emulator plays it; `n` varies the conversation (and so the session). */
export function openaiSpec(n: number): HttpExchangeSpec {
  return {
    name: `openai-${n}`,
    request: {
      method: 'POST',
      path: '/v1/chat/completions',
      authority: 'api.openai.com',
      headers: [['content-type', 'application/json']],
      body: openaiRequest(`Say hello number ${n % 50}`),
    },
    response: {
      status: 200,
      headers: [
        ['content-type', 'text/event-stream'],
        ['content-encoding', 'gzip'],
      ],
      body: gzipSync(OPENAI_STREAM),
    },
  }
}
