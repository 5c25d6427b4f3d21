/**
 * OpenAI-compatible vendors on their own hosts and paths (test/fixtures/compat-cases, self-written
 * after each vendor's documented format): each case goes through the same loader `sessiontap replay`
 * uses and through buildTurn, so detection (path → API, host → provider), parsing and pricing are
 * checked together.
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import type { Exchange } from '../../src/exchange.js'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import type { ProviderHosts } from '../../src/providers/hosts.js'
import { buildTurn, type TurnBuildOptions } from '../../src/recorder/turn-builder.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import type { Turn } from '../../src/session/turn.js'
import { body } from '../recorder/exchanges.js'

const CASES = loadExchangeCases([path.resolve(import.meta.dirname, '../fixtures/compat-cases')])

function exchangeOf(name: string): Exchange {
  const found = CASES.find((c) => c.name === name)
  if (!found) throw new Error(`no case ${name}`)
  const { request, response } = found.spec
  const headers = (pairs: ReadonlyArray<readonly [string, string]>) => Object.fromEntries(pairs)
  return {
    requestId: `compat-${name}`,
    request: {
      method: request.method,
      path: request.path,
      authority: request.authority,
      scheme: request.scheme ?? 'https',
      headers: headers(request.headers),
      body: body(request.body),
    },
    response: { status: response.status, headers: headers(response.headers), body: body(response.body) },
    timing: { startedAt: 1_700_000_000_000, firstResponseAt: 1_700_000_000_100, endedAt: 1_700_000_000_500 },
    ending: 'complete',
    observability: false,
    attributes: {},
    metadata: {},
  }
}

function turnOf(name: string, providerHosts?: ProviderHosts): Turn {
  const options: TurnBuildOptions = {
    envelope: DEFAULT_ENVELOPE_OPTIONS,
    prices: DEFAULT_PRICES,
    storeContent: true,
    ...(providerHosts ? { providerHosts } : {}),
  }
  const result = buildTurn(exchangeOf(name), options)
  if (!result.ok) throw new Error(`dropped: ${result.reason} ${result.detail ?? ''}`)
  return result.turn
}

/** The response node's content blocks, as stored (thinking text under `thinking`). */
function responseContent(turn: Turn): unknown {
  const node = turn.nodes.find((n) => n.hash === turn.responseHash)
  expect(node?.role).toBe('assistant')
  return (node?.content as { content?: unknown } | null)?.content
}

const usage = (
  inputTokens: number | null,
  outputTokens: number | null,
  cacheReadTokens: number | null,
  reasoningTokens: number | null,
) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheCreationTokens: null,
  reasoningTokens,
  status: 'reported',
})

describe('OpenAI-compatible vendors (compat-cases)', () => {
  it('has a test for every case folder', () => {
    expect(CASES.map((c) => c.name)).toEqual([
      'deepseek-chat-nonstream-reasoning',
      'groq-chat-stream-x-groq',
      'openrouter-chat-stream-keepalive',
      'vllm-chat-stream-localhost',
    ])
  })

  it('OpenRouter: /api/v1 path, SSE keep-alive comments skipped, usage (its cost field not read)', () => {
    const turn = turnOf('openrouter-chat-stream-keepalive')
    expect(turn).toMatchObject({
      provider: 'openrouter',
      api: 'openai.chat',
      model: 'openai/gpt-4o-mini',
      responseModel: 'openai/gpt-4o-mini',
      statusCode: 200,
      isStreaming: true,
      isComplete: true,
      stopReason: 'stop',
      providerResponseId: 'gen-fixture-or1',
      errorType: null,
    })
    expect(turn.usage).toEqual(usage(9, 3, 0, 0))
    expect(responseContent(turn)).toMatchObject([{ type: 'text', text: 'Hello there!' }])
    expect(turn.costUsd).toBeNull() // no openrouter prices in the built-in table
  })

  it('Groq: /openai/v1 path, x_groq.usage stands in for the missing top-level usage', () => {
    const turn = turnOf('groq-chat-stream-x-groq')
    expect(turn).toMatchObject({
      provider: 'groq',
      api: 'openai.chat',
      model: 'llama-3.3-70b-versatile',
      responseModel: 'llama-3.3-70b-versatile',
      statusCode: 200,
      isStreaming: true,
      isComplete: true,
      stopReason: 'stop',
      providerResponseId: 'chatcmpl-fixture-groq1',
      errorType: null,
    })
    expect(turn.usage).toEqual(usage(48, 3, null, null))
    expect(responseContent(turn)).toMatchObject([{ type: 'text', text: 'Blue.' }])
  })

  it('DeepSeek: bare /chat/completions, blank keep-alive lines before the JSON, reasoning_content, cache hits', () => {
    const turn = turnOf('deepseek-chat-nonstream-reasoning')
    expect(turn).toMatchObject({
      provider: 'deepseek',
      api: 'openai.chat',
      model: 'deepseek-reasoner',
      responseModel: 'deepseek-reasoner',
      statusCode: 200,
      isStreaming: false,
      isComplete: true,
      stopReason: 'stop',
      providerResponseId: 'fixture-deepseek-1',
      errorType: null,
    })
    expect(turn.usage).toEqual(usage(30, 84, 16, 70))
    expect(responseContent(turn)).toMatchObject([
      { type: 'thinking', thinking: 'Compare the tenths: 1 < 8, so 9.11 < 9.8.' },
      { type: 'text', text: '9.11 is smaller than 9.8.' },
    ])
  })

  it('vLLM on localhost: an unknown host keeps the API provider; no finish_reason, still complete', () => {
    const turn = turnOf('vllm-chat-stream-localhost')
    expect(turn).toMatchObject({
      provider: 'openai',
      api: 'openai.chat',
      model: 'Qwen/Qwen2.5-1.5B-Instruct',
      responseModel: 'Qwen/Qwen2.5-1.5B-Instruct',
      statusCode: 200,
      isStreaming: true,
      isComplete: true,
      stopReason: null,
      providerResponseId: 'chatcmpl-fixture-vllm1',
      errorType: null,
      costUsd: null,
    })
    expect(turn.usage).toEqual(usage(10, 5, null, null))
    expect(responseContent(turn)).toMatchObject([
      { type: 'thinking', thinking: 'Greet back.' },
      { type: 'text', text: 'Hello!' },
    ])
  })

  it('the configured host map names the local server, by host:port or by host', () => {
    expect(turnOf('vllm-chat-stream-localhost', { 'localhost:8000': 'vllm' }).provider).toBe('vllm')
    expect(turnOf('vllm-chat-stream-localhost', { localhost: 'local' }).provider).toBe('local')
    expect(turnOf('vllm-chat-stream-localhost', { 'localhost:1234': 'lmstudio' }).provider).toBe('openai')
    // The map wins over the built-in table.
    expect(turnOf('groq-chat-stream-x-groq', { 'api.groq.com': 'groq-eu' }).provider).toBe('groq-eu')
  })
})
