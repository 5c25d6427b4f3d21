/** Self-written wire fixtures for the blocks, usage details and errors that must all be recorded. */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { parseRequest } from '../../src/providers/index.js'
import { projectBlocks } from '../../src/session/projection.js'
import { jsonBody, respond, sseBody } from './helpers.js'

const SSE = 'text/event-stream'
const start = (usage: object) => [
  'message_start',
  { type: 'message_start', message: { id: 'msg_1', model: 'claude-sonnet-4-6', content: [], usage } },
]
const stop: [string, unknown][] = [['message_stop', { type: 'message_stop' }]]

describe('anthropic blocks', () => {
  it('keeps streamed thinking with its signature delta and a redacted_thinking block', () => {
    const r = respond(
      'anthropic.messages',
      sseBody([
        start({ input_tokens: 10, output_tokens: 1 }) as [string, unknown],
        [
          'content_block_start',
          { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
        ],
        [
          'content_block_delta',
          { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me ' } },
        ],
        [
          'content_block_delta',
          { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'think.' } },
        ],
        [
          'content_block_delta',
          {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'signature_delta', signature: 'EqQBCgIYAh' },
          },
        ],
        [
          'content_block_start',
          {
            type: 'content_block_start',
            index: 1,
            content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va' },
          },
        ],
        [
          'content_block_start',
          { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
        ],
        [
          'content_block_delta',
          { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Done.' } },
        ],
        [
          'message_delta',
          { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 40 } },
        ],
        ...stop,
      ]),
      SSE,
    )
    expect(r.complete).toBe(true)
    expect(r.message?.content).toEqual([
      { type: 'thinking', text: 'Let me think.', signature: 'EqQBCgIYAh' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va' },
      { type: 'text', text: 'Done.' },
    ])
    // Signatures and redacted data stay out of the hash.
    expect(projectBlocks(r.message!.content)).toEqual([
      { type: 'thinking', thinking: 'Let me think.', is_error: false },
      { type: 'text', text: 'Done.', is_error: false },
    ])
  })

  it('records a web search: server_tool_use, its result without encrypted content, the request count', () => {
    const r = respond(
      'anthropic.messages',
      sseBody([
        start({ input_tokens: 2000, output_tokens: 3 }) as [string, unknown],
        [
          'content_block_start',
          {
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} },
          },
        ],
        [
          'content_block_delta',
          {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'input_json_delta', partial_json: '{"query":"node 20"}' },
          },
        ],
        [
          'content_block_start',
          {
            type: 'content_block_start',
            index: 1,
            content_block: {
              type: 'web_search_tool_result',
              tool_use_id: 'srvtoolu_1',
              content: [
                {
                  type: 'web_search_result',
                  url: 'https://nodejs.org',
                  title: 'Node.js',
                  encrypted_content: 'EqgfCioIARgB',
                  page_age: 'May 2025',
                },
              ],
            },
          },
        ],
        [
          'content_block_start',
          {
            type: 'content_block_start',
            index: 2,
            content_block: {
              type: 'web_search_tool_result',
              tool_use_id: 'srvtoolu_2',
              content: { type: 'web_search_tool_result_error', error_code: 'max_uses_exceeded' },
            },
          },
        ],
        [
          'message_delta',
          {
            type: 'message_delta',
            delta: { stop_reason: 'end_turn' },
            usage: { output_tokens: 90, server_tool_use: { web_search_requests: 1 } },
          },
        ],
        ...stop,
      ]),
      SSE,
    )
    expect(r.message?.content).toEqual([
      { type: 'tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'node 20' } },
      {
        type: 'tool_result',
        toolUseId: 'srvtoolu_1',
        output: JSON.stringify([
          { type: 'web_search_result', url: 'https://nodejs.org', title: 'Node.js', page_age: 'May 2025' },
        ]),
        isError: false,
      },
      {
        type: 'tool_result',
        toolUseId: 'srvtoolu_2',
        output: JSON.stringify({ type: 'web_search_tool_result_error', error_code: 'max_uses_exceeded' }),
        isError: true,
      },
    ])
    expect(r.usage).toMatchObject({ inputTokens: 2000, outputTokens: 90, webSearchRequests: 1 })
  })

  it('keeps a document and an image in a request; a large base64 payload is hashed by reference', () => {
    const pdf = Buffer.alloc(12 * 1024, 7)
    const body = jsonBody({
      model: 'claude-sonnet-4-6',
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'document',
              title: 'Spec',
              source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') },
            },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' } },
            { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0K' } },
            { type: 'text', text: 'Summarize.' },
          ],
        },
      ],
    })
    const parsed = parseRequest('anthropic.messages', body, '/v1/messages')
    if (!parsed.ok) throw new Error(parsed.reason)
    const blocks = parsed.value.messages[0]!.content
    expect(blocks.map((b) => b.type)).toEqual(['document', 'document', 'document', 'image', 'text'])
    expect(projectBlocks(blocks)).toEqual([
      {
        type: 'document',
        sha256: createHash('sha256').update(pdf).digest('hex'),
        bytes: pdf.length,
        media_type: 'application/pdf',
        title: 'Spec',
        is_error: false,
      },
      { type: 'document', document_text: 'plain words', media_type: 'text/plain', is_error: false },
      { type: 'document', document_url: 'https://example.com/a.pdf', is_error: false },
      { type: 'image', image_base64: 'iVBORw0K', media_type: 'image/png', is_error: false },
      { type: 'text', text: 'Summarize.', is_error: false },
    ])
  })

  it('reads the 5m and 1h cache writes apart', () => {
    const r = respond(
      'anthropic.messages',
      jsonBody({
        id: 'msg_2',
        model: 'claude-sonnet-4-6',
        content: [{ type: 'text', text: 'ok' }],
        stop_reason: 'end_turn',
        usage: {
          input_tokens: 3,
          cache_creation_input_tokens: 500,
          cache_read_input_tokens: 100,
          cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 300 },
          output_tokens: 5,
        },
      }),
      'application/json',
    )
    expect(r.usage).toMatchObject({
      inputTokens: 603,
      cacheCreationTokens: 500,
      cacheCreation5mTokens: 200,
      cacheCreation1hTokens: 300,
      webSearchRequests: null,
    })
  })
})

describe('gemini usage details', () => {
  it('adds thoughts to output (not part of candidates) and reads cached content as cache read', () => {
    const r = respond(
      'gemini.generate',
      jsonBody({
        candidates: [{ content: { role: 'model', parts: [{ text: 'Hi' }] }, finishReason: 'STOP' }],
        usageMetadata: {
          promptTokenCount: 1000,
          cachedContentTokenCount: 800,
          candidatesTokenCount: 10,
          thoughtsTokenCount: 50,
        },
      }),
      'application/json',
    )
    expect(r.usage).toMatchObject({
      inputTokens: 1000,
      outputTokens: 60,
      cacheReadTokens: 800,
      reasoningTokens: 50,
    })
  })
})

describe('errors told apart', () => {
  it('fails an Anthropic stream that ends with an error event', () => {
    const r = respond(
      'anthropic.messages',
      sseBody([
        start({ input_tokens: 5, output_tokens: 1 }) as [string, unknown],
        [
          'content_block_start',
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'Par' } },
        ],
        ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
      ]),
      SSE,
    )
    expect(r).toMatchObject({ complete: false, error: { type: 'overloaded_error', message: 'Overloaded' } })
    expect(r.message?.content).toEqual([{ type: 'text', text: 'Par' }])
  })

  it('fails an OpenAI stream whose last chunk is an error object, even after [DONE]', () => {
    const r = respond(
      'openai.chat',
      sseBody([
        [undefined, { id: 'c1', model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'Hel' } }] }],
        [undefined, { error: { message: 'The server had an error', type: 'server_error' } }],
        [undefined, '[DONE]'],
      ]),
      SSE,
    )
    expect(r).toMatchObject({
      complete: false,
      error: { type: 'server_error', message: 'The server had an error' },
    })
  })

  it('fails a Gemini stream whose last array element is an error', () => {
    const r = respond(
      'gemini.generate',
      jsonBody([
        { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] } }] },
        { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } },
      ]),
      'application/json',
    )
    expect(r).toMatchObject({
      complete: false,
      error: { type: 'UNAVAILABLE', message: 'The model is overloaded.' },
    })
  })

  it('reads an error body served as text/event-stream, and types an untyped one by its status', () => {
    const sse = Buffer.from(
      'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}\n\n',
    )
    expect(respond('anthropic.messages', sse, SSE, 429).error).toEqual({
      type: 'rate_limit_error',
      message: 'Slow down',
    })
    const json = jsonBody({ type: 'error', error: { type: 'api_error', message: 'Internal' } })
    expect(respond('anthropic.messages', json, SSE, 500).error).toEqual({
      type: 'api_error',
      message: 'Internal',
    })
    // A 200 labelled as a stream whose body is a JSON error still fails.
    expect(respond('anthropic.messages', json, SSE, 200)).toMatchObject({
      complete: false,
      error: { type: 'api_error' },
    })
    expect(respond('openai.chat', Buffer.alloc(0), 'text/plain', 503).error).toEqual({
      type: 'http_503',
      message: null,
    })
  })
})
