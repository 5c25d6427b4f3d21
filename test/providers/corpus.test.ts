/**
 * Every recorded exchange in ../shared/corpus, parsed end to end (detect → request → decodeBody →
 * response). The expected values below were read off the recorded bytes case by case, so the test
 * checks the parsers against the wire, not against themselves. Skipped when the corpus is absent.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Api, ProviderTiming } from '../../src/providers/index.js'
import { detectApi, parseRequest, parseResponse } from '../../src/providers/index.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus')
const present = fs.existsSync(CORPUS)
if (!present) console.warn(`corpus tests skipped: ${CORPUS} not found`)

/** usage: [input (incl. cache), output (incl. reasoning), cacheRead, cacheCreation, reasoning]; null = not reported. */
type Usage5 = [number, number, number | null, number | null, number | null] | null
interface Success {
  case: string
  api: Api
  requestModel: string
  status: number
  model: string
  usage: Usage5
  stop: string
  /** Prefix of the assembled text blocks, joined ('' = no text). */
  text: string
  /** [name, id] of each tool call, in order. */
  tools: Array<[string, string]>
  /** Durations the provider reported (Ollama), nanoseconds; absent = none. */
  timing?: ProviderTiming
}
interface Failure {
  case: string
  api: Api
  requestModel: string
  status: number
  error: { type: string; message: string }
}

const CASES: Array<Success | Failure> = [
  {
    case: 'anthropic-claudecode-session-turn01',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [526, 14, 0, 0, null],
    stop: 'end_turn',
    text: '{"title":"Run generate-claude-fixture sk',
    tools: [],
  },
  {
    case: 'anthropic-claudecode-session-turn02',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [33156, 97, 0, 33153, 38],
    stop: 'tool_use',
    text: '',
    tools: [['Skill', 'toolu_0128Zap2gwdkcMk3xuiuokwx']],
  },
  {
    case: 'anthropic-claudecode-session-turn03',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [35160, 396, 33153, 2005, 248],
    stop: 'tool_use',
    text: '## Preflight checks\n\n**Check 1 — MCP too',
    tools: [['Bash', 'toolu_01SKcKBtaQGcUjWe5XKGH7e2']],
  },
  {
    case: 'anthropic-claudecode-session-turn04',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [35579, 414, 35158, 420, 0],
    stop: 'tool_use',
    text: 'Scratch directory created. Working direc',
    tools: [
      ['Write', 'toolu_01GfsW64gCXVibNqLbqGw4xo'],
      ['Write', 'toolu_011f7nXBAUedAnoHhyCdd6ue'],
      ['Write', 'toolu_01GVRYXYcN4r3kLYkGibxYNj'],
    ],
  },
  {
    case: 'anthropic-claudecode-session-turn05',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [36168, 169, 35578, 589, 0],
    stop: 'tool_use',
    text: '### Step 2 — Read them back (parallel ba',
    tools: [
      ['Read', 'toolu_01A5SAaSuQyiosGzPLfNajV6'],
      ['Read', 'toolu_01DgcFHtaDsDdfX13n5WRj5b'],
      ['Read', 'toolu_01BvzPCYXk6pM2kCQsioTAEU'],
    ],
  },
  {
    case: 'anthropic-claudecode-session-turn06',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [36699, 568, 36167, 531, 0],
    stop: 'tool_use',
    text: '### Step 3 — Long streamed answer (no to',
    tools: [
      ['Edit', 'toolu_01MyPG8qWBU9rfNL8TiQhGh2'],
      ['Bash', 'toolu_01BQXKvS5J2V9NJTQgUkSwQd'],
    ],
  },
  {
    case: 'anthropic-claudecode-session-turn07',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [37413, 244, 36698, 714, 0],
    stop: 'tool_use',
    text: '### Step 5 — Task lifecycle',
    tools: [
      ['TaskCreate', 'toolu_01BXiKr921qs4bnFueaZgmoV'],
      ['TaskCreate', 'toolu_017VkzseSi6EeYpCfsAw1wUu'],
      ['TaskCreate', 'toolu_01KRkTG1VGKcykRjaUt4eFwB'],
    ],
  },
  {
    case: 'anthropic-claudecode-session-turn08',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [37781, 72, 37412, 368, 0],
    stop: 'tool_use',
    text: '',
    tools: [['TaskUpdate', 'toolu_01FoZswMchbDR6yn5n3M6PkF']],
  },
  {
    case: 'anthropic-claudecode-session-turn09',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [37871, 214, 37780, 90, 0],
    stop: 'tool_use',
    text: '### Step 6 — Subagent',
    tools: [['Agent', 'toolu_011RUXHcaTksPqotauxQ3Ko2']],
  },
  {
    case: 'anthropic-claudecode-session-turn10',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [20132, 181, 0, 20129, 53],
    stop: 'tool_use',
    text: '',
    tools: [['Bash', 'toolu_01Q326aJ8pBVvkEeCdVYnVxU']],
  },
  {
    case: 'anthropic-claudecode-session-turn11',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [20492, 205, 20129, 362, 0],
    stop: 'end_turn',
    text: 'The word "widget" (case-insensitive) app',
    tools: [],
  },
  {
    case: 'anthropic-claudecode-session-turn12',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [38299, 247, 37870, 428, 0],
    stop: 'tool_use',
    text: 'Subagent stayed within `/tmp/tapes-fixtu',
    tools: [
      ['Bash', 'toolu_01RWHyNq9Re1FjYrzqnia9zu'],
      ['Read', 'toolu_015WHX8C5AXBc36CN59VQS2Z'],
      ['Bash', 'toolu_015kvmMR3BoD5mwwfABGGQwW'],
    ],
  },
  {
    case: 'anthropic-claudecode-session-turn13',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [38743, 102, 38298, 444, 0],
    stop: 'tool_use',
    text: 'All three failed as expected (exit 127, ',
    tools: [['Read', 'toolu_01AGzdzS18gvjib1fXP5NdMb']],
  },
  {
    case: 'anthropic-claudecode-session-turn14',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [38888, 130, 38742, 145, 0],
    stop: 'tool_use',
    text: 'Clean single-failure turn recorded.\n\n###',
    tools: [['Edit', 'toolu_01FfiCnHrp9T37Xj4U8FUdTr']],
  },
  {
    case: 'anthropic-claudecode-session-turn15',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [39237, 198, 38887, 349, 0],
    stop: 'tool_use',
    text: 'Tool error (string not found) recorded, ',
    tools: [
      ['TaskUpdate', 'toolu_01UEiSDVjy92dgqSFpyq9kbW'],
      ['TaskUpdate', 'toolu_01Ug5zFNWRPGdTyjdno3jd56'],
      ['TaskUpdate', 'toolu_01FSrC97kZdcEw26rxCV4Mar'],
    ],
  },
  {
    case: 'anthropic-claudecode-session-turn16',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [39538, 85, 39236, 301, 0],
    stop: 'tool_use',
    text: '',
    tools: [['Bash', 'toolu_01Lac5Vsna6ETZc5buieeu25']],
  },
  {
    case: 'anthropic-claudecode-session-turn17',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-6',
    status: 200,
    model: 'claude-sonnet-4-6',
    usage: [39636, 491, 39537, 98, 0],
    stop: 'end_turn',
    text: '---\n\n## Wire shapes produced\n\n| Wire sha',
    tools: [],
  },
  {
    case: 'anthropic-messages-error-400-invalid-request-01',
    api: 'anthropic.messages',
    requestModel: 'claude-opus-4-6',
    status: 400,
    error: {
      type: 'invalid_request_error',
      message: "This model does not support effort level 'xhigh'. Supported levels: high, low, max, medium.",
    },
  },
  {
    case: 'anthropic-messages-nonstream-system-01',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-0',
    status: 200,
    model: 'claude-sonnet-4-20250514',
    usage: [20, 13, 0, 0, null],
    stop: 'end_turn',
    text: '2 + 2 = 4',
    tools: [],
  },
  {
    case: 'anthropic-messages-nonstream-tool_use-turn01',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-5',
    status: 200,
    model: 'claude-sonnet-4-5-20250929',
    usage: [620, 55, 0, 0, null],
    stop: 'tool_use',
    text: '',
    tools: [['get_weather', 'toolu_01AoUFM2koNLsFscK6xjnLPo']],
  },
  {
    case: 'anthropic-messages-nonstream-tool_use-turn02',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-5',
    status: 200,
    model: 'claude-sonnet-4-5-20250929',
    usage: [701, 22, 0, 0, null],
    stop: 'end_turn',
    text: 'The weather in Tokyo is currently sunny ',
    tools: [],
  },
  {
    case: 'anthropic-messages-stream-01',
    api: 'anthropic.messages',
    requestModel: 'claude-sonnet-4-5',
    status: 200,
    model: 'claude-sonnet-4-5-20250929',
    usage: [17, 10, 0, 0, null],
    stop: 'end_turn',
    text: '- Captain\n- Scoop',
    tools: [],
  },
  {
    case: 'anthropic-messages-stream-gzip-tools-turn01',
    api: 'anthropic.messages',
    requestModel: 'claude-haiku-4-5-20251001',
    status: 200,
    model: 'claude-haiku-4-5-20251001',
    usage: [542, 62, 0, 0, null],
    stop: 'tool_use',
    text: '',
    tools: [
      ['pelican_name_generator', 'toolu_01LtHJmixrs9NcWQkK8hu8hj'],
      ['pelican_name_generator', 'toolu_01N8a4jWyf116qKTMqKKmjyt'],
    ],
  },
  {
    case: 'anthropic-messages-stream-gzip-tools-turn02',
    api: 'anthropic.messages',
    requestModel: 'claude-haiku-4-5-20251001',
    status: 200,
    model: 'claude-haiku-4-5-20251001',
    usage: [678, 82, 0, 0, null],
    stop: 'end_turn',
    text: 'Here are two great names for your pet pe',
    tools: [],
  },
  {
    case: 'anthropic-messages-stream-tool_use-turn01',
    api: 'anthropic.messages',
    requestModel: 'claude-3-5-haiku-latest',
    status: 200,
    model: 'claude-3-5-haiku-20241022',
    usage: [351, 85, 0, 0, null],
    stop: 'tool_use',
    text: "I'll help you find out the current tempe",
    tools: [['get_current_temperature', 'toolu_01Lfr3kUnHMZApePPRWMv1uS']],
  },
  {
    case: 'anthropic-messages-stream-tool_use-turn02',
    api: 'anthropic.messages',
    requestModel: 'claude-3-5-haiku-latest',
    status: 200,
    model: 'claude-3-5-haiku-20241022',
    usage: [457, 33, 0, 0, null],
    stop: 'end_turn',
    text: 'The current temperature in San Francisco',
    tools: [],
  },
  {
    case: 'gemini-generatecontent-error-429-01',
    api: 'gemini.generate',
    requestModel: 'gemini-2.0-flash',
    status: 429,
    error: {
      type: 'RESOURCE_EXHAUSTED',
      message:
        'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
    },
  },
  {
    case: 'gemini-generatecontent-nonstream-system-01',
    api: 'gemini.generate',
    requestModel: 'gemini-3-pro-preview',
    status: 200,
    model: 'gemini-3-pro-preview',
    usage: [15, 114, null, null, 106],
    stop: 'STOP',
    text: '2 + 2 is 4.',
    tools: [],
  },
  {
    case: 'gemini-streamgeneratecontent-gzip-01',
    api: 'gemini.generate',
    requestModel: 'gemini-flash-latest',
    status: 200,
    model: 'gemini-3.6-flash',
    usage: [11, 293, null, null, 291],
    stop: 'STOP',
    text: 'Scoop',
    tools: [],
  },
  {
    case: 'ollama-generate-nonstream-01',
    api: 'ollama.generate',
    requestModel: 'llama3.1',
    status: 200,
    model: 'llama3.1',
    usage: [67, 22, null, null, null],
    stop: 'stop',
    text: '```\n{\n  "name": "Alice Llama",\n  "age": ',
    tools: [],
    timing: { totalNs: 20230916375, loadNs: 11878250500, promptEvalNs: 7472000000, evalNs: 877000000 },
  },
  {
    case: 'openai-chat-error-404-model-not-found-01',
    api: 'openai.chat',
    requestModel: 'gpt-4.1-nano-wrong',
    status: 404,
    error: {
      type: 'invalid_request_error',
      message: 'The model `gpt-4.1-nano-wrong` does not exist or you do not have access to it.',
    },
  },
  {
    case: 'openai-chat-nonstream-gzip-tools-turn01',
    api: 'openai.chat',
    requestModel: 'gpt-4o-mini',
    status: 200,
    model: 'gpt-4o-mini-2024-07-18',
    usage: [92, 17, 0, null, 0],
    stop: 'tool_calls',
    text: '',
    tools: [['lookup_population', 'call_TTY8UFNo7rNCaOBUNtlRSvMG']],
  },
  {
    case: 'openai-chat-nonstream-gzip-tools-turn02',
    api: 'openai.chat',
    requestModel: 'gpt-4o-mini',
    status: 200,
    model: 'gpt-4o-mini-2024-07-18',
    usage: [118, 18, 0, null, 0],
    stop: 'tool_calls',
    text: '',
    tools: [['can_have_dragons', 'call_aq9UyiSFkzX6W8Ydc33DoI9Y']],
  },
  {
    case: 'openai-chat-nonstream-gzip-tools-turn03',
    api: 'openai.chat',
    requestModel: 'gpt-4o-mini',
    status: 200,
    model: 'gpt-4o-mini-2024-07-18',
    usage: [146, 3, 0, null, 0],
    stop: 'stop',
    text: 'YES',
    tools: [],
  },
  {
    case: 'openai-chat-nonstream-system-01',
    api: 'openai.chat',
    requestModel: 'gpt-4o-mini',
    status: 200,
    model: 'gpt-4o-mini-2024-07-18',
    usage: [24, 8, 0, null, 0],
    stop: 'stop',
    text: '2 + 2 equals 4.',
    tools: [],
  },
  {
    case: 'openai-chat-stream-01',
    api: 'openai.chat',
    requestModel: 'gpt-5-nano',
    status: 200,
    model: 'gpt-5-nano-2025-08-07',
    usage: null,
    stop: 'stop',
    text: 'Hi there! How can I help today? I can an',
    tools: [],
  },
  {
    case: 'openai-chat-stream-usage-01',
    api: 'openai.chat',
    requestModel: 'gpt-5-nano',
    status: 200,
    model: 'gpt-5-nano-2025-08-07',
    usage: [12, 100, 0, null, 100],
    stop: 'length',
    text: '',
    tools: [],
  },
  {
    case: 'openai-chat-stream-usage-tools-turn01',
    api: 'openai.chat',
    requestModel: 'gpt-4o-mini',
    status: 200,
    model: 'gpt-4o-mini-2024-07-18',
    usage: [54, 20, 0, null, 0],
    stop: 'tool_calls',
    text: '',
    tools: [['multiply', 'call_1EYWDzueHEp8OsB8jJSEp7WB']],
  },
  {
    case: 'openai-chat-stream-usage-tools-turn02',
    api: 'openai.chat',
    requestModel: 'gpt-4o-mini',
    status: 200,
    model: 'gpt-4o-mini-2024-07-18',
    usage: [87, 26, 0, null, 0],
    stop: 'stop',
    text: 'The result of \\( 1231 \\times 2331 \\) is ',
    tools: [],
  },
  {
    case: 'openai-responses-nonstream-gzip-01',
    api: 'openai.responses',
    requestModel: 'gpt-5.5',
    status: 200,
    model: 'gpt-5.5-2026-04-23',
    usage: [11, 5, 0, null, 0],
    stop: 'completed',
    text: 'pong',
    tools: [],
  },
  {
    case: 'openai-responses-stream-01',
    api: 'openai.responses',
    requestModel: 'gpt-5.5',
    status: 200,
    model: 'gpt-5.5-2026-04-23',
    usage: [11, 5, 0, null, 0],
    stop: 'completed',
    text: 'pong',
    tools: [],
  },
]

function read(dir: string, file: string): Buffer {
  return fs.readFileSync(path.join(CORPUS, dir, file))
}

function textOf(content: Array<{ type: string; text?: string }> | undefined): string {
  return (content ?? [])
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('')
}

describe.skipIf(!present)('recorded corpus', () => {
  it('has an expectation for every case folder', () => {
    const dirs = fs
      .readdirSync(CORPUS, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
    expect(CASES.map((c) => c.case).sort()).toEqual(dirs)
  })

  it.each(CASES)('$case', (expected) => {
    const head = JSON.parse(read(expected.case, 'request.headers.json').toString('utf8'))
    const resHead = JSON.parse(read(expected.case, 'response.headers.json').toString('utf8'))
    const requestPath: string = head.captured_path ?? head.path

    const detected = detectApi(head.method, requestPath, head.headers)
    expect(detected).toMatchObject({ ok: true, api: expected.api })

    const request = parseRequest(expected.api, read(expected.case, 'request.json'), requestPath)
    if (!request.ok) throw new Error(request.reason)
    expect(request.value.model).toBe(expected.requestModel)
    const sessionHeader = head.headers['x-claude-code-session-id']
    if (sessionHeader) expect(request.value.hints.metadataSessionId).toBe(sessionHeader)

    const decoded = decodeBody([read(expected.case, 'response.body')], resHead.content_encoding ?? undefined)
    expect(decoded.error).toBeUndefined()
    expect(resHead.status).toBe(expected.status)
    const response = parseResponse({
      api: expected.api,
      status: resHead.status,
      contentType: resHead.content_type ?? undefined,
      body: decoded.bytes,
      request: request.value,
    })

    if ('error' in expected) {
      expect(response.error).toEqual(expected.error)
      expect(response.message).toBeNull()
      return
    }
    expect(response.error).toBeNull()
    expect(response.complete).toBe(true)
    expect(response.model).toBe(expected.model)
    expect(response.stopReason).toBe(expected.stop)
    const u = response.usage
    if (expected.usage === null) {
      expect(u).toEqual({
        inputTokens: null,
        outputTokens: null,
        cacheReadTokens: null,
        cacheCreationTokens: null,
        reasoningTokens: null,
        status: 'missing',
      })
    } else {
      expect([
        u.inputTokens,
        u.outputTokens,
        u.cacheReadTokens,
        u.cacheCreationTokens,
        u.reasoningTokens,
      ]).toEqual(expected.usage)
      expect(u.status).toBe('reported')
    }
    const text = textOf(response.message?.content)
    if (expected.text === '') expect(text).toBe('')
    else expect(text.startsWith(expected.text)).toBe(true)
    const tools = (response.message?.content ?? []).flatMap((b) =>
      b.type === 'tool_use' ? [[b.name, b.id]] : [],
    )
    expect(tools).toEqual(expected.tools)
    expect(response.providerTiming ?? null).toEqual(expected.timing ?? null)
  })
})
