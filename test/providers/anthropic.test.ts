import { describe, expect, it } from 'vitest'
import { parseRequest } from '../../src/providers/index.js'
import { jsonBody, respond, sseBody, truncate } from './helpers.js'

const SSE = 'text/event-stream; charset=utf-8'
const SESSION = '0d6e3a4c-1b7f-4e2a-9c3d-5f6a7b8c9d0e'

describe('anthropic.messages request', () => {
  it('normalizes system blocks, tool use/result, thinking and images', () => {
    const body = jsonBody({
      model: 'claude-sonnet-4-6',
      stream: true,
      system: [
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Be careful.' },
      ],
      tools: [{ name: 'Bash' }],
      metadata: { user_id: JSON.stringify({ device_id: 'd', account_uuid: 'a', session_id: SESSION }) },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look:' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'plan', signature: 'sig1' },
            { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              is_error: true,
              content: [{ type: 'text', text: 'exit 1' }],
            },
          ],
        },
      ],
    })
    const parsed = parseRequest('anthropic.messages', body, '/v1/messages?beta=true')
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    const r = parsed.value
    expect(r).toMatchObject({ model: 'claude-sonnet-4-6', stream: true, toolCount: 1 })
    expect(r.system).toEqual([
      { type: 'text', text: 'You are Claude Code.' },
      { type: 'text', text: 'Be careful.' },
    ])
    expect(r.hints.metadataSessionId).toBe(SESSION)
    expect(r.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image', mediaType: 'image/png', data: 'AAAA' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', text: 'plan', signature: 'sig1' },
          { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            toolUseId: 'toolu_1',
            output: [{ type: 'text', text: 'exit 1' }],
            isError: true,
          },
        ],
      },
    ])
  })

  it('reads a string system prompt and the older `_session_<uuid>` user id', () => {
    const userId = `user_abc_account_def_session_${SESSION}`
    const parsed = parseRequest(
      'anthropic.messages',
      jsonBody({
        model: 'm',
        system: 'Be brief.',
        metadata: { user_id: userId },
        messages: [{ role: 'user', content: 'hi' }],
      }),
      '/v1/messages',
    )
    expect(parsed.ok && parsed.value.system).toEqual([{ type: 'text', text: 'Be brief.' }])
    expect(parsed.ok && parsed.value.hints).toEqual({ metadataUserId: userId, metadataSessionId: SESSION })
    expect(parsed.ok && parsed.value.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    ])
  })

  it('refuses a body without messages', () => {
    expect(parseRequest('anthropic.messages', jsonBody({ model: 'm' }), '/v1/messages')).toMatchObject({
      ok: false,
    })
  })
})

const STREAM: Array<[string, unknown]> = [
  [
    'message_start',
    {
      type: 'message_start',
      message: {
        id: 'msg_1',
        model: 'claude-sonnet-4-6',
        content: [],
        usage: {
          input_tokens: 3,
          cache_creation_input_tokens: 200,
          cache_read_input_tokens: 1000,
          output_tokens: 1,
        },
      },
    },
  ],
  [
    'content_block_start',
    {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'thinking', thinking: '', signature: '' },
    },
  ],
  ['ping', { type: 'ping' }],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm, ' } },
  ],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'ok.' } },
  ],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'SIG' } },
  ],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  [
    'content_block_start',
    { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
  ],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Running ' } },
  ],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'it.' } },
  ],
  ['content_block_stop', { type: 'content_block_stop', index: 1 }],
  [
    'content_block_start',
    {
      type: 'content_block_start',
      index: 2,
      content_block: { type: 'tool_use', id: 'toolu_9', name: 'Bash', input: {} },
    },
  ],
  [
    'content_block_delta',
    { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"comm' } },
  ],
  [
    'content_block_delta',
    {
      type: 'content_block_delta',
      index: 2,
      delta: { type: 'input_json_delta', partial_json: 'and":"ls"}' },
    },
  ],
  ['content_block_stop', { type: 'content_block_stop', index: 2 }],
  [
    'message_delta',
    { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 50 } },
  ],
  [
    'message_delta',
    {
      type: 'message_delta',
      delta: {},
      usage: { output_tokens: 75, output_tokens_details: { thinking_tokens: 30 } },
    },
  ],
  ['message_stop', { type: 'message_stop' }],
]

describe('anthropic.messages response', () => {
  it('assembles thinking (with signature), text and tool_use from the stream', () => {
    const r = respond('anthropic.messages', sseBody(STREAM), SSE)
    expect(r.message).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', text: 'Hmm, ok.', signature: 'SIG' },
        { type: 'text', text: 'Running it.' },
        { type: 'tool_use', id: 'toolu_9', name: 'Bash', input: { command: 'ls' } },
      ],
    })
    expect(r).toMatchObject({
      model: 'claude-sonnet-4-6',
      stopReason: 'tool_use',
      providerResponseId: 'msg_1',
      complete: true,
    })
  })

  it('adds both cache counts to input tokens and takes message_delta usage as cumulative', () => {
    const r = respond('anthropic.messages', sseBody(STREAM), SSE)
    expect(r.usage).toEqual({
      inputTokens: 1203,
      outputTokens: 75,
      cacheReadTokens: 1000,
      cacheCreationTokens: 200,
      reasoningTokens: 30,
      cacheCreation5mTokens: null,
      cacheCreation1hTokens: null,
      webSearchRequests: null,
      status: 'reported',
    })
  })

  it('keeps a truncated stream, with the unfinished tool input as its raw text', () => {
    const cut = STREAM.slice(0, 13)
    const r = respond('anthropic.messages', sseBody(cut), SSE)
    expect(r.complete).toBe(false)
    expect(r.message?.content.at(-1)).toEqual({
      type: 'tool_use',
      id: 'toolu_9',
      name: 'Bash',
      input: '{"comm',
    })
    expect(r.usage.outputTokens).toBe(1)
  })

  it('marks a stream cut inside an event incomplete', () => {
    const r = respond('anthropic.messages', truncate(sseBody(STREAM), 10), SSE)
    expect(r.complete).toBe(false)
    expect(r.stopReason).toBe('tool_use')
  })

  it('drops wrongly shaped deltas without throwing and keeps the well-formed ones', () => {
    const delta = (index: unknown, d: unknown) =>
      ['content_block_delta', { type: 'content_block_delta', index, delta: d }] as [string, unknown]
    const r = respond(
      'anthropic.messages',
      sseBody([
        ...STREAM.slice(0, 2),
        [
          'content_block_start',
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        ],
        delta(0, { type: 'text_delta', text: 'kept' }),
        delta(0, { type: 'text_delta', text: 42 }),
        delta('0', { type: 'text_delta', text: 'bad index' }),
        delta(0, 'not an object'),
        delta(0, null),
        delta(7, { type: 'text_delta', text: 'no such block' }),
        delta(undefined, { type: 'text_delta', text: ' too' }),
        ['message_stop', { type: 'message_stop' }],
      ]),
      SSE,
    )
    expect(r.message?.content).toEqual([{ type: 'text', text: 'kept too' }])
    expect(r.complete).toBe(true)
  })

  it('records a mid-stream error event', () => {
    const r = respond(
      'anthropic.messages',
      sseBody([
        ...STREAM.slice(0, 3),
        ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
      ]),
      SSE,
    )
    expect(r).toMatchObject({ complete: false, error: { type: 'overloaded_error', message: 'Overloaded' } })
  })

  it('parses a non-streamed message and an error body', () => {
    const r = respond(
      'anthropic.messages',
      jsonBody({
        id: 'msg_2',
        type: 'message',
        role: 'assistant',
        model: 'claude-haiku-4-5',
        content: [{ type: 'text', text: '4' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 20, output_tokens: 2 },
      }),
      'application/json',
    )
    expect(r).toMatchObject({
      message: { role: 'assistant', content: [{ type: 'text', text: '4' }] },
      complete: true,
    })
    expect(r.usage).toMatchObject({
      inputTokens: 20,
      outputTokens: 2,
      cacheReadTokens: null,
      cacheCreationTokens: null,
    })
    const err = respond(
      'anthropic.messages',
      jsonBody({
        type: 'error',
        error: { type: 'overloaded_error', message: 'Overloaded' },
        request_id: 'req_1',
      }),
      'application/json',
      529,
    )
    expect(err.error).toEqual({ type: 'overloaded_error', message: 'Overloaded' })
  })
})
