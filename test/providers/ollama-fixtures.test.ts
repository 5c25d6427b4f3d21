/**
 * Self-written Ollama exchanges in the corpus folder layout (test/fixtures/ollama-cases), written from
 * Ollama's documented /api/chat format, parsed end to end as the recorder does (detect → request →
 * decodeBody → response → chain). They live apart from test/fixtures/cases, which the replay and e2e
 * runners play whole and whose turns they tell apart by provider response id (Ollama sends none).
 */
import { createHash } from 'node:crypto'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { type ExchangeCase, loadExchangeCases } from '../../src/emulator/cases.js'
import { detectApi, type ParsedRequest, parseRequest, parseResponse } from '../../src/providers/index.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import { buildChain } from '../../src/session/chain.js'

const CASES = loadExchangeCases([path.resolve(import.meta.dirname, '../fixtures/ollama-cases')])

function byName(name: string): ExchangeCase {
  const found = CASES.find((c) => c.name === name)
  if (!found) throw new Error(`no fixture ${name}`)
  return found
}

function parse(name: string) {
  const c = byName(name)
  const { request, response } = c.spec
  const detected = detectApi(request.method, request.path, {})
  if (!detected.ok) throw new Error(`${name}: ${detected.reason}`)
  const parsed = parseRequest(detected.api, request.body, request.path)
  if (!parsed.ok) throw new Error(`${name}: ${parsed.reason}`)
  const decoded = decodeBody([response.body], c.recorded.contentEncoding)
  expect(decoded.error).toBeUndefined()
  const answer = parseResponse({
    api: detected.api,
    status: response.status,
    contentType: c.recorded.contentType,
    body: decoded.bytes,
    request: parsed.value,
  })
  return { detected, request: parsed.value, response: answer }
}

function imageData(request: ParsedRequest, index: number): string {
  const block = request.messages[0]!.content.filter((b) => b.type === 'image')[index]
  if (block?.type !== 'image' || !block.data) throw new Error('no image')
  return block.data
}

describe('ollama fixtures', () => {
  it('has the four cases', () => {
    expect(CASES.map((c) => c.name)).toEqual([
      'ollama-chat-error-404-model-not-found',
      'ollama-chat-nonstream-tool-result',
      'ollama-chat-stream-thinking-tools',
      'ollama-chat-stream-truncated',
    ])
  })

  it('streamed chat: thinking, text and a whole tool call, done_reason, counts and durations', () => {
    const { detected, request, response } = parse('ollama-chat-stream-thinking-tools')
    expect(detected).toEqual({ ok: true, api: 'ollama.chat', provider: 'ollama' })
    expect(request).toMatchObject({ model: 'qwen3:8b', stream: true, toolCount: 1 })
    expect(request.system).toEqual([{ type: 'text', text: 'You are a terse weather assistant.' }])
    expect(response).toMatchObject({
      model: 'qwen3:8b',
      stopReason: 'stop',
      providerResponseId: null,
      complete: true,
      error: null,
    })
    expect(response.message?.content).toEqual([
      { type: 'thinking', text: 'The photos show the Eiffel Tower, so Paris.' },
      { type: 'text', text: 'Checking Paris.' },
      { type: 'tool_use', id: 'call_w1', name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } },
    ])
    expect(response.usage).toEqual({
      inputTokens: 412,
      outputTokens: 57,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      reasoningTokens: null,
      status: 'reported',
    })
    expect(response.providerTiming).toEqual({
      totalNs: 2143061875,
      loadNs: 20583417,
      promptEvalNs: 865718000,
      evalNs: 1255139000,
    })
  })

  it('streamed chat: the small image is stored inline, the one over 8192 base64 characters as its sha256', () => {
    const { request, response } = parse('ollama-chat-stream-thinking-tools')
    const small = imageData(request, 0)
    const big = imageData(request, 1)
    expect(small.length).toBeLessThanOrEqual(8192)
    expect(big.length).toBeGreaterThan(8192)
    const chain = buildChain(request, response)
    const user = chain.nodes.find((n) => n.role === 'user')!.content as {
      content: Array<Record<string, unknown>>
    }
    const images = user.content.filter((b) => b.type === 'image')
    expect(images[0]).toMatchObject({ image_base64: small })
    const bytes = Buffer.from(big, 'base64')
    expect(images[1]).toMatchObject({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    })
    expect(images[1]).not.toHaveProperty('image_base64')
  })

  it('non-streamed chat after a tool call: the replayed call and its result, the answer with its thinking', () => {
    const { request, response } = parse('ollama-chat-nonstream-tool-result')
    expect(request).toMatchObject({ model: 'qwen3:8b', stream: false, toolCount: 1 })
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', text: 'Use the tool.' },
          {
            type: 'tool_use',
            id: 'get_weather',
            name: 'get_weather',
            input: { city: 'Paris', unit: 'celsius' },
          },
        ],
      },
      {
        role: 'tool',
        content: [
          {
            type: 'tool_result',
            toolUseId: 'get_weather',
            output: '{"temperature":18,"sky":"cloudy"}',
            isError: false,
          },
        ],
      },
    ])
    expect(response).toMatchObject({ stopReason: 'stop', complete: true, error: null })
    expect(response.message?.content).toEqual([
      { type: 'thinking', text: 'The tool says 18 and cloudy.' },
      { type: 'text', text: '18 °C and cloudy in Paris.' },
    ])
    expect([response.usage.inputTokens, response.usage.outputTokens]).toEqual([463, 21])
    expect(response.providerTiming).toEqual({
      totalNs: 1032501917,
      loadNs: 18254000,
      promptEvalNs: 301422000,
      evalNs: 698321000,
    })
  })

  it('a stream without its done:true line is incomplete: the text so far, no usage, no timing', () => {
    const { request, response } = parse('ollama-chat-stream-truncated')
    expect(request.stream).toBe(true)
    expect(response).toMatchObject({ complete: false, stopReason: null, error: null })
    expect(response.message?.content).toEqual([{ type: 'text', text: '1, 2, 3,' }])
    expect(response.usage.status).toBe('missing')
    expect(response.providerTiming).toBeUndefined()
  })

  it('a model that is not there: 404 with its message, no answer', () => {
    const { response } = parse('ollama-chat-error-404-model-not-found')
    expect(response).toMatchObject({
      message: null,
      complete: true,
      error: { type: 'http_404', message: "model 'x' not found" },
    })
  })
})
