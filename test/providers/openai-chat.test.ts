import { describe, expect, it } from 'vitest'
import { parseRequest } from '../../src/providers/index.js'
import { jsonBody, respond, sseBody, truncate } from './helpers.js'

const SSE = 'text/event-stream; charset=utf-8'

describe('openai.chat request', () => {
  const body = jsonBody({
    model: 'gpt-4o-mini',
    stream: true,
    prompt_cache_key: 'cache-key-1',
    tools: [
      { type: 'function', function: { name: 'multiply' } },
      { type: 'function', function: { name: 'add' } },
    ],
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use tools.' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0K' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'multiply', arguments: '{"a":2,"b":3}' } },
          { id: 'call_2', type: 'function', function: { name: 'add', arguments: 'not json' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '6' },
    ],
    future_field: { kept: true },
  })

  it('moves system and developer messages to system and normalizes the rest', () => {
    const parsed = parseRequest('openai.chat', body, '/v1/chat/completions')
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    const r = parsed.value
    expect(r).toMatchObject({
      api: 'openai.chat',
      provider: 'openai',
      model: 'gpt-4o-mini',
      stream: true,
      toolCount: 2,
    })
    expect(r.hints).toEqual({ promptCacheKey: 'cache-key-1' })
    expect(r.system).toEqual([
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Use tools.' },
    ])
    expect(r.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image', mediaType: 'image/png', data: 'iVBORw0K' },
          { type: 'image', url: 'https://example.com/a.png' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'multiply', input: { a: 2, b: 3 } },
          { type: 'tool_use', id: 'call_2', name: 'add', input: 'not json' },
        ],
      },
      { role: 'tool', content: [{ type: 'tool_result', toolUseId: 'call_1', output: '6', isError: false }] },
    ])
  })

  it('defaults stream to false and refuses malformed or wrongly shaped bodies', () => {
    const plain = parseRequest('openai.chat', jsonBody({ model: 'm', messages: [] }), '/v1/chat/completions')
    expect(plain.ok && plain.value.stream).toBe(false)
    const bad = parseRequest('openai.chat', Buffer.from('{"model":'), '/v1/chat/completions')
    expect(bad).toMatchObject({ ok: false, reason: expect.stringContaining('malformed JSON') })
    const wrong = parseRequest(
      'openai.chat',
      jsonBody({ model: 'm', messages: 'hi' }),
      '/v1/chat/completions',
    )
    expect(wrong).toMatchObject({ ok: false, reason: expect.stringContaining('messages') })
  })
})

const chunk = (delta: object, extra: object = {}) => ({
  id: 'chatcmpl-1',
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, delta, finish_reason: null }],
  ...extra,
})

const TOOL_STREAM = sseBody([
  [undefined, chunk({ role: 'assistant', reasoning_content: 'Let me ' })],
  [undefined, chunk({ reasoning_content: 'think.' })],
  [undefined, chunk({ content: 'Calling ' })],
  [undefined, chunk({ content: 'tools.' })],
  [
    undefined,
    chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'multiply', arguments: '' } }] }),
  ],
  [
    undefined,
    chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'add', arguments: '{"x":' } }] }),
  ],
  [undefined, chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":1' } }] })],
  [undefined, chunk({ tool_calls: [{ index: 0, function: { arguments: ',"b":2}' } }] })],
  [undefined, chunk({ tool_calls: [{ index: 1, function: { arguments: '5}' } }] })],
  [
    undefined,
    {
      id: 'chatcmpl-1',
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }],
    },
  ],
  [
    undefined,
    {
      id: 'chatcmpl-1',
      choices: [],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 40,
        prompt_tokens_details: { cached_tokens: 64 },
        completion_tokens_details: { reasoning_tokens: 12 },
      },
    },
  ],
  [undefined, '[DONE]'],
])

describe('openai.chat response', () => {
  it('assembles a streamed message with reasoning, text and tool-call argument deltas by index', () => {
    const r = respond('openai.chat', TOOL_STREAM, SSE)
    expect(r.message).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', text: 'Let me think.' },
        { type: 'text', text: 'Calling tools.' },
        { type: 'tool_use', id: 'call_a', name: 'multiply', input: { a: 1, b: 2 } },
        { type: 'tool_use', id: 'call_b', name: 'add', input: { x: 5 } },
      ],
    })
    expect(r).toMatchObject({
      model: 'gpt-4o-mini-2024-07-18',
      stopReason: 'tool_calls',
      providerResponseId: 'chatcmpl-1',
      complete: true,
      error: null,
    })
    expect(r.usage).toEqual({
      inputTokens: 100,
      outputTokens: 40,
      cacheReadTokens: 64,
      cacheCreationTokens: null,
      reasoningTokens: 12,
      status: 'reported',
    })
  })

  it('reports usage as missing (null, not 0) when the stream carried none', () => {
    const r = respond(
      'openai.chat',
      sseBody([
        [undefined, chunk({ content: 'hi' })],
        [undefined, '[DONE]'],
      ]),
      SSE,
    )
    expect(r.usage).toEqual({
      inputTokens: null,
      outputTokens: null,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      reasoningTokens: null,
      status: 'missing',
    })
    expect(r.complete).toBe(true)
  })

  it('keeps what a truncated stream held and marks it incomplete', () => {
    const cut = truncate(TOOL_STREAM, 'data: [DONE]\n\n'.length + 30)
    const r = respond('openai.chat', cut, SSE)
    expect(r.complete).toBe(false)
    expect(r.stopReason).toBe('tool_calls')
    expect(r.message?.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use', 'tool_use'])
  })

  it('drops wrongly shaped chunks without throwing and reads text, usage and tools from the rest', () => {
    const r = respond(
      'openai.chat',
      sseBody([
        [undefined, chunk({ content: 'a' })],
        [undefined, chunk({ content: 7 })],
        [undefined, { id: 'chatcmpl-1', choices: { 0: { delta: { content: 'not an array' } } } }],
        [undefined, { id: 42, choices: [{ index: 0, delta: { content: 'bad id' } }] }],
        [undefined, chunk({ content: 'b' }, { usage: { prompt_tokens: 3, completion_tokens: 2 } })],
        [
          undefined,
          chunk({
            content: 'c',
            tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }],
          }),
        ],
        [
          undefined,
          chunk({ content: 'ignored' }, { choices: [{ index: 1, delta: { content: 'second choice' } }] }),
        ],
        [undefined, '[DONE]'],
      ]),
      SSE,
    )
    expect(r.message?.content).toEqual([
      { type: 'text', text: 'abc' },
      { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
    ])
    expect(r.usage).toMatchObject({ inputTokens: 3, outputTokens: 2, status: 'reported' })
    expect(r.complete).toBe(true)
  })

  it('treats a finish_reason without [DONE] as incomplete', () => {
    const body = sseBody([
      [undefined, { choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'stop' }] }],
    ])
    expect(respond('openai.chat', body, SSE).complete).toBe(false)
  })

  it('parses a non-streamed completion', () => {
    const body = jsonBody({
      id: 'chatcmpl-2',
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_9', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
        {
          index: 1,
          message: { role: 'assistant', content: 'second choice is ignored' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    })
    const r = respond('openai.chat', body, 'application/json')
    expect(r.message).toEqual({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'call_9', name: 'lookup', input: { q: 'x' } }],
    })
    expect(r.usage).toMatchObject({
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: null,
      reasoningTokens: null,
      status: 'reported',
    })
    expect(r.complete).toBe(true)
  })

  it('reads an error body and a mid-stream error chunk', () => {
    const err = respond(
      'openai.chat',
      jsonBody({ error: { message: 'Rate limit', type: null, code: 'rate_limit_exceeded' } }),
      'application/json',
      429,
    )
    expect(err).toMatchObject({
      message: null,
      error: { type: 'rate_limit_exceeded', message: 'Rate limit' },
    })
    const mid = respond(
      'openai.chat',
      sseBody([
        [undefined, chunk({ content: 'par' })],
        [undefined, { error: { type: 'server_error', message: 'boom' } }],
      ]),
      SSE,
    )
    expect(mid).toMatchObject({ complete: false, error: { type: 'server_error', message: 'boom' } })
    expect(mid.message?.content).toEqual([{ type: 'text', text: 'par' }])
  })

  it('keeps a non-JSON error body as the message', () => {
    const r = respond('openai.chat', Buffer.from('<html>502 Bad Gateway</html>'), 'text/html', 502)
    expect(r.error).toEqual({ type: 'http_502', message: '<html>502 Bad Gateway</html>' })
  })
})

describe('openai.chat response from compatible vendors', () => {
  const chunk = (payload: object) => ({ id: 'c-1', object: 'chat.completion.chunk', model: 'm', ...payload })
  const text = (t: string) => chunk({ choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })
  const groqUsage = {
    queue_time: 0.01,
    prompt_tokens: 20,
    completion_tokens: 4,
    total_tokens: 24,
    total_time: 0.1,
  }
  const reported = (input: number, output: number, cacheRead: number | null = null) => ({
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: cacheRead,
    cacheCreationTokens: null,
    reasoningTokens: null,
    status: 'reported',
  })

  it("takes Groq's x_groq.usage when the stream has no top-level usage", () => {
    const body = sseBody([
      [undefined, chunk({ choices: [{ index: 0, delta: { content: 'Hi' } }], x_groq: { id: 'req_1' } })],
      [
        undefined,
        chunk({
          choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
          x_groq: { id: 'req_1', usage: groqUsage },
        }),
      ],
      [undefined, '[DONE]'],
    ])
    const r = respond('openai.chat', body, SSE)
    expect(r.usage).toEqual(reported(20, 4))
    expect(r.complete).toBe(true)
    expect(r.message?.content).toEqual([{ type: 'text', text: 'Hi' }])
  })

  it('prefers top-level usage to x_groq.usage, before or after it, and ignores a malformed x_groq', () => {
    const top = chunk({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 1 } })
    const groq = chunk({ choices: [], x_groq: { usage: groqUsage } })
    for (const order of [
      [top, groq],
      [groq, top],
    ]) {
      const r = respond(
        'openai.chat',
        sseBody([
          [undefined, text('a')],
          ...order.map((c): [undefined, object] => [undefined, c]),
          [undefined, '[DONE]'],
        ]),
        SSE,
      )
      expect(r.usage).toEqual(reported(7, 1))
    }
    const odd = sseBody([
      [undefined, chunk({ choices: [{ index: 0, delta: { content: 'a' } }], x_groq: 'not an object' })],
      [undefined, chunk({ choices: [], x_groq: { usage: { prompt_tokens: 'many' } } })],
      [undefined, '[DONE]'],
    ])
    const r = respond('openai.chat', odd, SSE)
    expect(r.message?.content).toEqual([{ type: 'text', text: 'a' }])
    expect(r.usage.status).toBe('missing')
    expect(r.complete).toBe(true)
  })

  it("reads DeepSeek's prompt_cache_hit_tokens as the cache read; OpenAI's cached_tokens wins when both come", () => {
    const usage = {
      prompt_tokens: 30,
      completion_tokens: 5,
      prompt_cache_hit_tokens: 16,
      prompt_cache_miss_tokens: 14,
    }
    const message = { role: 'assistant', content: 'ok' }
    const r = respond(
      'openai.chat',
      jsonBody({ id: 'd', choices: [{ index: 0, message, finish_reason: 'stop' }], usage }),
      'application/json',
    )
    expect(r.usage).toEqual(reported(30, 5, 16))
    const both = { ...usage, prompt_tokens_details: { cached_tokens: 12 } }
    const r2 = respond(
      'openai.chat',
      jsonBody({ id: 'd', choices: [{ index: 0, message }], usage: both }),
      'application/json',
    )
    expect(r2.usage.cacheReadTokens).toBe(12)
  })

  it('a stream without any finish_reason completes with [DONE], stop reason null', () => {
    const r = respond(
      'openai.chat',
      sseBody([
        [undefined, text('Hel')],
        [undefined, text('lo')],
        [undefined, '[DONE]'],
      ]),
      SSE,
    )
    expect(r).toMatchObject({ complete: true, stopReason: null, error: null })
    expect(r.message?.content).toEqual([{ type: 'text', text: 'Hello' }])
    // Without [DONE] it is a cut stream.
    expect(respond('openai.chat', sseBody([[undefined, text('Hel')]]), SSE).complete).toBe(false)
  })

  it('skips SSE keep-alive comments anywhere, and blank keep-alive lines before a JSON body', () => {
    const events = sseBody([
      [undefined, text('a')],
      [undefined, text('b')],
      [undefined, '[DONE]'],
    ]).toString()
    const withComments = `: OPENROUTER PROCESSING\n\n: keep-alive\n\n${events.replace('\n\n', '\n\n: OPENROUTER PROCESSING\n\n')}`
    for (const type of [SSE, undefined]) {
      const r = respond('openai.chat', Buffer.from(withComments), type as string)
      expect(r).toMatchObject({ complete: true, message: { content: [{ type: 'text', text: 'ab' }] } })
    }
    const json = JSON.stringify({
      id: 'x',
      choices: [{ index: 0, message: { content: 'hi' }, finish_reason: 'stop' }],
    })
    for (const type of ['application/json', undefined, SSE]) {
      const r = respond('openai.chat', Buffer.from(`\n\n \r\n${json}`), type as string)
      expect(r).toMatchObject({
        complete: true,
        stopReason: 'stop',
        message: { content: [{ type: 'text', text: 'hi' }] },
      })
    }
  })

  it('keeps reasoning deltas (reasoning_content or reasoning) as thinking before the text', () => {
    const body = sseBody([
      [undefined, chunk({ choices: [{ index: 0, delta: { reasoning_content: 'Think' } }] })],
      [undefined, chunk({ choices: [{ index: 0, delta: { reasoning: 'ing.' } }] })],
      [undefined, text('Answer')],
      [undefined, '[DONE]'],
    ])
    expect(respond('openai.chat', body, SSE).message?.content).toEqual([
      { type: 'thinking', text: 'Thinking.' },
      { type: 'text', text: 'Answer' },
    ])
  })
})
