/**
 * Every Responses item type a response carries, recorded: the three self-written turns in
 * test/fixtures/responses-cases (reasoning, hosted tools, an image) parsed from their bytes, their
 * chains linked turn to turn, and the item types those turns do not use, one by one.
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import { type ContentBlock, parseRequest, parseResponse } from '../../src/providers/index.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import { buildChain } from '../../src/session/chain.js'
import { projectBlocks } from '../../src/session/projection.js'
import { jsonBody, respond, sseBody } from './helpers.js'

const CASES = loadExchangeCases([path.resolve(import.meta.dirname, '../fixtures/responses-cases')])

function turn(name: string) {
  const c = CASES.find((x) => x.name === name)
  if (!c) throw new Error(`no case ${name}`)
  const { request, response } = c.spec
  const parsed = parseRequest('openai.responses', request.body, request.path)
  if (!parsed.ok) throw new Error(`${name}: ${parsed.reason}`)
  const answer = parseResponse({
    api: 'openai.responses',
    status: response.status,
    contentType: c.recorded.contentType,
    body: decodeBody([response.body], c.recorded.contentEncoding).bytes,
    request: parsed.value,
  })
  return {
    request: parsed.value,
    response: answer,
    chain: buildChain(parsed.value, answer),
    body: response.body,
  }
}

const turn1 = turn('openai-responses-reasoning-search')
const turn2 = turn('openai-responses-stream-hosted-tools')
const turn3 = turn('openai-responses-followup-image')

const TURN1_BLOCKS: ContentBlock[] = [
  {
    type: 'thinking',
    text: "**Checking tram status**\n\nI should search for today's service notices.",
    signature: 'gAAAAABpM2Fixture-reasoning-1_opaque-ciphertext==',
  },
  {
    type: 'tool_use',
    id: 'ws_fixture01',
    name: 'web_search_call',
    input: { type: 'search', query: 'Lisbon tram 28 service today' },
  },
  {
    type: 'tool_result',
    toolUseId: 'ws_fixture01',
    output: '[{"type":"url","url":"https://www.carris.pt/en/news/"}]',
    isError: false,
  },
  { type: 'text', text: 'Tram 28 is running today on its full route.' },
  { type: 'tool_use', id: 'call_fixture01', name: 'log_status', input: { line: '28E', running: true } },
]

const TURN2_BLOCKS: ContentBlock[] = [
  {
    type: 'thinking',
    text: 'The log worked. Compute minutes until the next tram, then ask the transit server.',
    signature: 'gAAAAABpM2Fixture-reasoning-2_opaque-ciphertext==',
  },
  {
    type: 'tool_use',
    id: 'ci_fixture02',
    name: 'code_interpreter_call',
    input: { code: 'print((14*60+5) - (13*60+52))', container_id: 'cntr_fixture02' },
  },
  {
    type: 'tool_result',
    toolUseId: 'ci_fixture02',
    output: [{ type: 'text', text: '13\n' }],
    isError: false,
  },
  {
    type: 'tool_use',
    id: 'mcp_fixture02',
    name: 'mcp_call',
    input: {
      server_label: 'transit',
      name: 'next_departures',
      arguments: { stop: 'Martim Moniz', line: '28E' },
      approval_request_id: null,
    },
  },
  { type: 'tool_result', toolUseId: 'mcp_fixture02', output: '14:05, 14:17, 14:29', isError: false },
  { type: 'text', text: 'Logged. The next tram leaves Martim Moniz at 14:05, in 13 minutes.' },
]

describe('openai.responses fixtures: reasoning, hosted tools, an image', () => {
  it('turn 1 (JSON): reasoning summary with its encrypted content, a web search with sources, a function call', () => {
    expect(turn1.response.message?.content).toEqual(TURN1_BLOCKS)
    expect(turn1.response.usage).toEqual({
      inputTokens: 412,
      outputTokens: 318,
      cacheReadTokens: 256,
      cacheCreationTokens: null,
      reasoningTokens: 192,
      status: 'reported',
    })
    expect(turn1.response).toMatchObject({ stopReason: 'completed', complete: true, error: null })
  })

  it('turn 2 (stream): reasoning_text, a code interpreter call with logs, an MCP call with its output', () => {
    expect(turn2.response.message?.content).toEqual(TURN2_BLOCKS)
    expect(turn2.response.usage).toEqual({
      inputTokens: 980,
      outputTokens: 205,
      cacheReadTokens: 640,
      cacheCreationTokens: null,
      reasoningTokens: 64,
      status: 'reported',
    })
    expect(turn2.response.complete).toBe(true)
  })

  it('turn 2 cut before response.completed: the same blocks from the done items', () => {
    const text = turn2.body.toString('utf8')
    const cut = Buffer.from(text.slice(0, text.indexOf('event: response.completed')), 'utf8')
    const r = respond('openai.responses', cut, 'text/event-stream')
    expect(r.complete).toBe(false)
    expect(r.message?.content).toEqual(TURN2_BLOCKS)
  })

  it('turn 2 cut before any item was done: reasoning, code, arguments and text from their deltas', () => {
    const events = turn2.body
      .toString('utf8')
      .split('\n\n')
      .filter((e) => e !== '' && !e.startsWith('event: response.output_item.done'))
    const r = respond(
      'openai.responses',
      Buffer.from(`${events.slice(0, -1).join('\n\n')}\n\n`),
      'text/event-stream',
    )
    expect(r.complete).toBe(false)
    const blocks = r.message!.content
    expect(blocks[0]).toEqual({ type: 'thinking', text: (TURN2_BLOCKS[0] as { text: string }).text })
    expect(blocks[1]).toMatchObject({
      name: 'code_interpreter_call',
      input: { code: 'print((14*60+5) - (13*60+52))' },
    })
    expect(blocks[2]).toMatchObject({
      name: 'mcp_call',
      input: { arguments: { stop: 'Martim Moniz', line: '28E' } },
    })
    expect(blocks[3]).toEqual(TURN2_BLOCKS[5])
  })

  it('turn 3 (JSON): the generated image; projected as a sha256 reference, its base64 being over 8192 characters', () => {
    const [call, result, text] = turn3.response.message!.content
    expect(call).toEqual({
      type: 'tool_use',
      id: 'ig_fixture03',
      name: 'image_generation_call',
      input: {
        output_format: 'png',
        quality: 'low',
        size: '1024x1024',
        revised_prompt: 'A small flat icon of a yellow Lisbon tram',
      },
    })
    expect(result).toMatchObject({ type: 'tool_result', toolUseId: 'ig_fixture03', isError: false })
    expect(text).toEqual({ type: 'text', text: 'Here is your tram icon.' })
    const projected = projectBlocks([result!])[0]
    expect(projected).toEqual({
      type: 'tool_result',
      tool_result_id: 'ig_fixture03',
      content: [
        {
          type: 'image',
          media_type: 'image/png',
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          bytes: 7016,
          is_error: false,
        },
      ],
      is_error: false,
    })
  })

  it('links the chains: each response node is the node its items make when sent back in the next request', () => {
    const roles = (chain: typeof turn2.chain) => chain.nodes.map((n) => n.role)
    expect(roles(turn2.chain)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant'])
    expect(turn2.chain.nodes[2]!.hash).toBe(turn1.chain.responseHash)
    expect(turn2.request.messages[1]!.content).toEqual(TURN1_BLOCKS)
    expect(roles(turn3.chain)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
      'user',
      'assistant',
    ])
    expect(turn3.chain.nodes[4]!.hash).toBe(turn2.chain.responseHash)
    expect(turn3.request.messages[3]!.content).toEqual(TURN2_BLOCKS)
  })

  it('keeps the encrypted content and the citations out of the hash', () => {
    const projected = JSON.stringify(turn2.chain.nodes.map((n) => n.content))
    expect(projected).not.toContain('opaque-ciphertext')
    expect(projected).not.toContain('url_citation')
    expect(projected).toContain('Checking tram status')
    expect(projected).toContain('"tool_output":"14:05, 14:17, 14:29"')
  })
})

/** The blocks one output item becomes in a non-streamed response. */
function blocksOf(...output: unknown[]): ContentBlock[] {
  const r = respond(
    'openai.responses',
    jsonBody({ id: 'resp_x', status: 'completed', output }),
    'application/json',
  )
  return r.message?.content ?? []
}

describe('openai.responses item types', () => {
  it('file_search_call: the queries, and the results when included', () => {
    expect(
      blocksOf({
        id: 'fs_1',
        type: 'file_search_call',
        status: 'completed',
        queries: ['kiwi harvest'],
        results: [
          { file_id: 'file_1', filename: 'notes.txt', score: 0.91, text: 'Harvest starts 14 March.' },
        ],
      }),
    ).toEqual([
      { type: 'tool_use', id: 'fs_1', name: 'file_search_call', input: { queries: ['kiwi harvest'] } },
      {
        type: 'tool_result',
        toolUseId: 'fs_1',
        output:
          '[{"file_id":"file_1","filename":"notes.txt","score":0.91,"text":"Harvest starts 14 March."}]',
        isError: false,
      },
    ])
  })

  it('web_search_call: open_page and find_in_page actions; a failed search is an error result', () => {
    expect(
      blocksOf(
        {
          id: 'ws_2',
          type: 'web_search_call',
          status: 'completed',
          action: { type: 'open_page', url: 'https://a.test' },
        },
        { id: 'ws_3', type: 'web_search_call', status: 'failed', action: { type: 'search', query: 'q' } },
      ),
    ).toEqual([
      {
        type: 'tool_use',
        id: 'ws_2',
        name: 'web_search_call',
        input: { type: 'open_page', url: 'https://a.test' },
      },
      { type: 'tool_use', id: 'ws_3', name: 'web_search_call', input: { type: 'search', query: 'q' } },
      { type: 'tool_result', toolUseId: 'ws_3', output: '', isError: true },
    ])
  })

  it('mcp_call errors (string and object), mcp_list_tools and mcp_approval_request', () => {
    expect(
      blocksOf(
        {
          id: 'mcp_1',
          type: 'mcp_call',
          server_label: 's',
          name: 't',
          arguments: '{}',
          error: 'server down',
        },
        {
          id: 'mcp_2',
          type: 'mcp_call',
          server_label: 's',
          name: 't',
          arguments: '{"a":1}',
          error: { type: 'mcp_protocol_error', code: -32601, message: 'no such tool' },
        },
        {
          id: 'mcpl_1',
          type: 'mcp_list_tools',
          server_label: 's',
          tools: [{ name: 't', input_schema: { type: 'object' } }],
        },
        {
          id: 'mcpr_1',
          type: 'mcp_approval_request',
          server_label: 's',
          name: 'delete',
          arguments: '{"id":7}',
        },
      ),
    ).toEqual([
      {
        type: 'tool_use',
        id: 'mcp_1',
        name: 'mcp_call',
        input: { server_label: 's', name: 't', arguments: {} },
      },
      { type: 'tool_result', toolUseId: 'mcp_1', output: 'server down', isError: true },
      {
        type: 'tool_use',
        id: 'mcp_2',
        name: 'mcp_call',
        input: { server_label: 's', name: 't', arguments: { a: 1 } },
      },
      {
        type: 'tool_result',
        toolUseId: 'mcp_2',
        output: '{"type":"mcp_protocol_error","code":-32601,"message":"no such tool"}',
        isError: true,
      },
      { type: 'tool_use', id: 'mcpl_1', name: 'mcp_list_tools', input: { server_label: 's' } },
      {
        type: 'tool_result',
        toolUseId: 'mcpl_1',
        output: '[{"name":"t","input_schema":{"type":"object"}}]',
        isError: false,
      },
      {
        type: 'tool_use',
        id: 'mcpr_1',
        name: 'mcp_approval_request',
        input: { server_label: 's', name: 'delete', arguments: { id: 7 } },
      },
    ])
  })

  it('computer, local shell, shell and apply_patch calls keep their actions under their call_id', () => {
    expect(
      blocksOf(
        {
          id: 'cu_1',
          type: 'computer_call',
          call_id: 'call_c',
          status: 'completed',
          action: { type: 'click', button: 'left', x: 10, y: 20 },
          pending_safety_checks: [],
        },
        {
          id: 'ls_1',
          type: 'local_shell_call',
          call_id: 'call_l',
          action: { type: 'exec', command: ['ls'], env: {} },
        },
        {
          id: 'sh_1',
          type: 'shell_call',
          call_id: 'call_s',
          action: { commands: ['pwd'] },
          environment: null,
        },
        {
          id: 'ap_1',
          type: 'apply_patch_call',
          call_id: 'call_p',
          operation: { type: 'update_file', path: 'a.ts', diff: '@@ -1 +1 @@' },
        },
      ),
    ).toEqual([
      {
        type: 'tool_use',
        id: 'call_c',
        name: 'computer_call',
        input: { action: { type: 'click', button: 'left', x: 10, y: 20 }, pending_safety_checks: [] },
      },
      {
        type: 'tool_use',
        id: 'call_l',
        name: 'local_shell_call',
        input: { action: { type: 'exec', command: ['ls'], env: {} } },
      },
      {
        type: 'tool_use',
        id: 'call_s',
        name: 'shell_call',
        input: { action: { commands: ['pwd'] }, environment: null },
      },
      {
        type: 'tool_use',
        id: 'call_p',
        name: 'apply_patch_call',
        input: { operation: { type: 'update_file', path: 'a.ts', diff: '@@ -1 +1 @@' } },
      },
    ])
  })

  it('keeps an item type it does not know (type and fields, encrypted ones left out) and a compaction marker', () => {
    expect(
      blocksOf(
        { id: 'x_1', type: 'hologram_call', status: 'completed', call_id: 'call_h', beam: { power: 3 } },
        { id: 'cmp_1', type: 'compaction', encrypted_content: 'gAAAAopaque' },
      ),
    ).toEqual([
      { type: 'tool_use', id: 'call_h', name: 'hologram_call', input: { beam: { power: 3 } } },
      { type: 'tool_use', id: 'cmp_1', name: 'compaction', input: {} },
    ])
  })

  it('keeps an item whose known fields have an unexpected shape whole, and the rest of the response with it', () => {
    const r = respond(
      'openai.responses',
      jsonBody({
        id: 'resp_y',
        status: 'completed',
        output: [
          { id: 'odd_1', type: 'message', role: 'assistant', content: { novel: 'shape' } },
          {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            content: [{ type: 'output_text', text: 'Fine.' }],
          },
        ],
        usage: { input_tokens: 3, output_tokens: 2 },
      }),
      'application/json',
    )
    expect(r.message?.content).toEqual([
      {
        type: 'tool_use',
        id: 'odd_1',
        name: 'unparsed_item',
        input: { item: { id: 'odd_1', type: 'message', role: 'assistant', content: { novel: 'shape' } } },
      },
      { type: 'text', text: 'Fine.' },
    ])
    expect(r.usage).toMatchObject({ inputTokens: 3, outputTokens: 2, status: 'reported' })
  })

  it('reasoning with both a summary and reasoning_text keeps both; an encrypted-only item is an empty signed thinking', () => {
    expect(
      blocksOf(
        {
          id: 'rs_1',
          type: 'reasoning',
          summary: [{ type: 'summary_text', text: 'Short.' }],
          content: [{ type: 'reasoning_text', text: 'Long and full.' }],
          encrypted_content: 'ENC',
        },
        { id: 'rs_2', type: 'reasoning', summary: [], encrypted_content: 'ENC2' },
      ),
    ).toEqual([
      { type: 'thinking', text: 'Short.', signature: 'ENC' },
      { type: 'thinking', text: 'Long and full.' },
      { type: 'thinking', text: '', signature: 'ENC2' },
    ])
  })

  it('streams reasoning summaries by summary_index and keeps the last partial image of an unfinished generation', () => {
    const r = respond(
      'openai.responses',
      sseBody([
        [
          'response.output_item.added',
          {
            type: 'response.output_item.added',
            output_index: 0,
            item: { id: 'rs', type: 'reasoning', summary: [] },
          },
        ],
        ...['First ', 'part.', 'Second.'].map((delta, i): [string, unknown] => [
          'response.reasoning_summary_text.delta',
          {
            type: 'response.reasoning_summary_text.delta',
            output_index: 0,
            summary_index: i < 2 ? 0 : 1,
            delta,
          },
        ]),
        [
          'response.output_item.added',
          {
            type: 'response.output_item.added',
            output_index: 1,
            item: { id: 'ig', type: 'image_generation_call', status: 'in_progress', result: null },
          },
        ],
        ...['AAAA', 'BBBB'].map((b64, i): [string, unknown] => [
          'response.image_generation_call.partial_image',
          {
            type: 'response.image_generation_call.partial_image',
            output_index: 1,
            partial_image_index: i,
            partial_image_b64: b64,
          },
        ]),
      ]),
      'text/event-stream',
    )
    expect(r.message?.content).toEqual([
      { type: 'thinking', text: 'First part.\nSecond.' },
      { type: 'tool_use', id: 'ig', name: 'image_generation_call', input: {} },
      { type: 'tool_result', toolUseId: 'ig', output: [{ type: 'image', data: 'BBBB' }], isError: false },
    ])
  })
})

describe('openai.responses client outputs in a request', () => {
  it('maps computer, local shell, shell, apply_patch outputs and an MCP approval to tool results', () => {
    const parsed = parseRequest(
      'openai.responses',
      jsonBody({
        model: 'gpt-5',
        input: [
          {
            type: 'computer_call_output',
            call_id: 'call_c',
            output: { type: 'computer_screenshot', image_url: 'data:image/png;base64,iVBORw0K' },
          },
          { type: 'local_shell_call_output', id: 'call_l', output: 'a.txt\n' },
          {
            type: 'shell_call_output',
            call_id: 'call_s',
            output: [{ stdout: '/w\n', stderr: '', outcome: { type: 'exit', exit_code: 0 } }],
          },
          { type: 'apply_patch_call_output', call_id: 'call_p', status: 'failed', output: 'no such file' },
          { type: 'mcp_approval_response', approval_request_id: 'mcpr_1', approve: true },
          { type: 'item_reference', id: 'msg_old' },
        ],
      }),
      '/v1/responses',
    )
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(parsed.value.messages.map((m) => m.content[0])).toEqual([
      {
        type: 'tool_result',
        toolUseId: 'call_c',
        output: [{ type: 'image', mediaType: 'image/png', data: 'iVBORw0K' }],
        isError: false,
      },
      { type: 'tool_result', toolUseId: 'call_l', output: 'a.txt\n', isError: false },
      {
        type: 'tool_result',
        toolUseId: 'call_s',
        output: '[{"stdout":"/w\\n","stderr":"","outcome":{"type":"exit","exit_code":0}}]',
        isError: false,
      },
      { type: 'tool_result', toolUseId: 'call_p', output: 'no such file', isError: true },
      { type: 'tool_result', toolUseId: 'mcpr_1', output: '{"approve":true}', isError: false },
    ])
    expect(parsed.value.messages.every((m) => m.role === 'tool')).toBe(true)
  })
})

describe('openai.responses items of unexpected shape in a request', () => {
  it('keeps a user message whose content did not parse as the user’s, and a new item type as the assistant’s', () => {
    const parsed = parseRequest(
      'openai.responses',
      jsonBody({
        model: 'gpt-5',
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
          { role: 'user', content: { novel: true } },
          { type: 'additional_tools', id: 'at_1', role: 'developer', tools: [{ type: 'web_search' }] },
        ],
      }),
      '/v1/responses',
    )
    expect(parsed.ok && parsed.value.system).toEqual([])
    expect(parsed.ok && parsed.value.messages).toEqual([
      {
        role: 'user',
        content: [{ type: 'text', text: 'hi' }],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_use',
            id: '',
            name: 'unparsed_item',
            input: { item: { role: 'user', content: { novel: true } } },
          },
        ],
      },
      {
        role: 'assistant',
        content: [
          {
            type: 'tool_use',
            id: 'at_1',
            name: 'additional_tools',
            input: { role: 'developer', tools: [{ type: 'web_search' }] },
          },
        ],
      },
    ])
  })
})

describe('openai.responses failed stream', () => {
  it('keeps what was produced before response.failed, its error and its usage', () => {
    const r = respond(
      'openai.responses',
      sseBody([
        [
          'response.output_item.done',
          {
            type: 'response.output_item.done',
            output_index: 0,
            item: {
              id: 'ws_9',
              type: 'web_search_call',
              status: 'completed',
              action: { type: 'search', query: 'q' },
            },
          },
        ],
        [
          'response.failed',
          {
            type: 'response.failed',
            response: {
              id: 'resp_9',
              status: 'failed',
              output: [],
              error: { code: 'server_error', message: 'The model failed.' },
              usage: { input_tokens: 20, output_tokens: 4, output_tokens_details: { reasoning_tokens: 4 } },
            },
          },
        ],
      ]),
      'text/event-stream',
    )
    expect(r.error).toEqual({ type: 'server_error', message: 'The model failed.' })
    expect(r.stopReason).toBe('failed')
    expect(r.usage).toMatchObject({
      inputTokens: 20,
      outputTokens: 4,
      reasoningTokens: 4,
      cacheReadTokens: null,
    })
    expect(r.message?.content).toEqual([
      { type: 'tool_use', id: 'ws_9', name: 'web_search_call', input: { type: 'search', query: 'q' } },
    ])
  })
})

describe('openai.responses reasoning delta indexes', () => {
  it('ignores a reasoning delta whose index is not a small list position', () => {
    const r = respond(
      'openai.responses',
      sseBody([
        [
          'response.output_item.added',
          {
            type: 'response.output_item.added',
            output_index: 0,
            item: { id: 'rs', type: 'reasoning', summary: [] },
          },
        ],
        ...[0, 1e9, -1, 0.5].map((content_index): [string, unknown] => [
          'response.reasoning_text.delta',
          {
            type: 'response.reasoning_text.delta',
            output_index: 0,
            content_index,
            delta: `at ${content_index}`,
          },
        ]),
      ]),
      'text/event-stream',
    )
    expect(r.message?.content).toEqual([{ type: 'thinking', text: 'at 0' }])
  })
})
