import { describe, expect, it } from 'vitest'
import { parseRequest } from '../../src/providers/index.js'
import { jsonBody, respond, sseBody } from './helpers.js'

const SSE = 'text/event-stream'

describe('openai.responses request', () => {
  it('maps instructions, input items, function calls and outputs, and session hints', () => {
    const parsed = parseRequest(
      'openai.responses',
      jsonBody({
        model: 'gpt-5',
        instructions: 'Be terse.',
        stream: true,
        conversation: { id: 'conv_1' },
        previous_response_id: 'resp_0',
        prompt_cache_key: 'pck',
        tools: [{ type: 'function', name: 'shell' }],
        input: [
          { role: 'developer', content: 'Dev rule.' },
          { role: 'user', content: [{ type: 'input_text', text: 'list files' }] },
          {
            type: 'reasoning',
            summary: [{ type: 'summary_text', text: 'Need ls.' }],
            encrypted_content: 'ENC',
          },
          { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"cmd":"ls"}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'a.txt' },
        ],
      }),
      '/v1/responses',
    )
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    const r = parsed.value
    expect(r.system).toEqual([
      { type: 'text', text: 'Be terse.' },
      { type: 'text', text: 'Dev rule.' },
    ])
    expect(r.hints).toEqual({ conversationId: 'conv_1', previousResponseId: 'resp_0', promptCacheKey: 'pck' })
    expect(r.toolCount).toBe(1)
    expect(r.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'list files' }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', text: 'Need ls.', signature: 'ENC' },
          { type: 'tool_use', id: 'call_1', name: 'shell', input: { cmd: 'ls' } },
        ],
      },
      {
        role: 'tool',
        content: [{ type: 'tool_result', toolUseId: 'call_1', output: 'a.txt', isError: false }],
      },
    ])
  })

  it('takes a string input as one user message and a string conversation id', () => {
    const parsed = parseRequest(
      'openai.responses',
      jsonBody({ model: 'gpt-5', input: 'ping', conversation: 'conv_9' }),
      '/v1/responses',
    )
    expect(parsed.ok && parsed.value.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'ping' }] },
    ])
    expect(parsed.ok && parsed.value.hints).toEqual({ conversationId: 'conv_9' })
  })
})

const created = { id: 'resp_1', model: 'gpt-5-2025', status: 'in_progress', output: [] }
const messageItem = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  content: [{ type: 'output_text', text: 'Hello there' }],
}
const callItem = {
  id: 'fc_1',
  type: 'function_call',
  call_id: 'call_7',
  name: 'shell',
  arguments: '{"cmd":"pwd"}',
}
const usage = {
  input_tokens: 50,
  input_tokens_details: { cached_tokens: 20 },
  output_tokens: 30,
  output_tokens_details: { reasoning_tokens: 10 },
}

function events(final: unknown): Buffer {
  const list: Array<[string, unknown]> = [
    ['response.created', { type: 'response.created', response: created }],
    [
      'response.output_item.added',
      { type: 'response.output_item.added', output_index: 0, item: { ...messageItem, content: [] } },
    ],
    ['response.output_text.delta', { type: 'response.output_text.delta', output_index: 0, delta: 'Hello ' }],
    ['response.output_text.delta', { type: 'response.output_text.delta', output_index: 0, delta: 'there' }],
    ['response.output_item.done', { type: 'response.output_item.done', output_index: 0, item: messageItem }],
    [
      'response.output_item.added',
      { type: 'response.output_item.added', output_index: 1, item: { ...callItem, arguments: '' } },
    ],
    [
      'response.function_call_arguments.delta',
      { type: 'response.function_call_arguments.delta', output_index: 1, delta: '{"cmd":' },
    ],
  ]
  if (final) list.push(['response.completed', { type: 'response.completed', response: final }])
  return sseBody(list)
}

describe('openai.responses response', () => {
  it('takes the final response from response.completed', () => {
    const r = respond(
      'openai.responses',
      events({ ...created, status: 'completed', output: [messageItem, callItem], usage }),
      SSE,
    )
    expect(r.message).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Hello there' },
        { type: 'tool_use', id: 'call_7', name: 'shell', input: { cmd: 'pwd' } },
      ],
    })
    expect(r).toMatchObject({
      model: 'gpt-5-2025',
      providerResponseId: 'resp_1',
      stopReason: 'completed',
      complete: true,
    })
    expect(r.usage).toEqual({
      inputTokens: 50,
      outputTokens: 30,
      cacheReadTokens: 20,
      cacheCreationTokens: null,
      reasoningTokens: 10,
      status: 'reported',
    })
  })

  it('falls back to done items and deltas when the completed output is empty', () => {
    const r = respond('openai.responses', events({ ...created, status: 'completed', output: [], usage }), SSE)
    expect(r.message?.content).toEqual([
      { type: 'text', text: 'Hello there' },
      { type: 'tool_use', id: 'call_7', name: 'shell', input: '{"cmd":' },
    ])
    expect(r.complete).toBe(true)
  })

  it('drops wrongly shaped delta events without throwing', () => {
    const r = respond(
      'openai.responses',
      sseBody([
        [
          'response.output_item.added',
          {
            type: 'response.output_item.added',
            output_index: 0,
            item: { type: 'message', role: 'assistant', content: [] },
          },
        ],
        [
          'response.output_text.delta',
          { type: 'response.output_text.delta', output_index: 0, delta: 'kept' },
        ],
        ['response.output_text.delta', { type: 'response.output_text.delta', output_index: 0, delta: 7 }],
        [
          'response.output_text.delta',
          { type: 'response.output_text.delta', output_index: '0', delta: 'bad index' },
        ],
        [
          'response.output_text.delta',
          { type: 'response.output_text.delta', output_index: 3, delta: 'no such item' },
        ],
      ]),
      SSE,
    )
    expect(r.message?.content).toEqual([{ type: 'text', text: 'kept' }])
    expect(r.complete).toBe(false)
  })

  it('keeps a truncated stream without response.completed as incomplete with missing usage', () => {
    const r = respond('openai.responses', events(null), SSE)
    expect(r.complete).toBe(false)
    expect(r.usage.status).toBe('missing')
    expect(r.providerResponseId).toBe('resp_1')
    expect(r.message?.content[0]).toEqual({ type: 'text', text: 'Hello there' })
  })

  it('reports response.incomplete reasons and stream error events', () => {
    const incomplete = respond(
      'openai.responses',
      sseBody([
        [
          'response.incomplete',
          {
            type: 'response.incomplete',
            response: {
              ...created,
              status: 'incomplete',
              incomplete_details: { reason: 'max_output_tokens' },
              output: [messageItem],
            },
          },
        ],
      ]),
      SSE,
    )
    expect(incomplete).toMatchObject({ stopReason: 'max_output_tokens', complete: true })
    const failed = respond(
      'openai.responses',
      sseBody([['error', { type: 'error', code: 'server_error', message: 'boom' }]]),
      SSE,
    )
    expect(failed.error).toEqual({ type: 'server_error', message: 'boom' })
  })

  it('parses a non-streamed response object', () => {
    const r = respond(
      'openai.responses',
      jsonBody({ ...created, status: 'completed', output: [messageItem], usage }),
      'application/json',
    )
    expect(r).toMatchObject({
      message: { content: [{ type: 'text', text: 'Hello there' }] },
      complete: true,
      stopReason: 'completed',
    })
  })
})
