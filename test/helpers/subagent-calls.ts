/**
 * Turns for the subagent tests, built by the real recorder (buildTurn): the hand-written two-call
 * fixture in test/fixtures/subagent, and the recorded Claude Code session of the shared corpus,
 * each optionally without the headers or body fields that name its session and thread.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { HeaderMap } from '../../src/exchange.js'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import { buildTurn } from '../../src/recorder/turn-builder.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import { SIGNALS } from '../../src/session/harness.js'
import type { Turn } from '../../src/session/turn.js'
import { CORPUS_DIR } from './corpus.js'

const FIXTURE_DIR = path.resolve(import.meta.dirname, '../fixtures/subagent')

export interface CallOptions {
  requestId: string
  orgId?: string
  headers?: HeaderMap
  /** Milliseconds since the epoch. */
  startedAt?: number
  /** Drop the body's `metadata` (and so its session id). */
  dropMetadata?: boolean
}

export function turnOf(
  requestBody: Buffer,
  responseBody: Buffer,
  responseContentType: string,
  options: CallOptions,
): Turn {
  let body = requestBody
  if (options.dropMetadata) {
    const { metadata: _dropped, ...rest } = JSON.parse(requestBody.toString('utf8'))
    body = Buffer.from(JSON.stringify(rest))
  }
  const startedAt = options.startedAt ?? 1_700_000_000_000
  const headers: HeaderMap = {
    'content-type': 'application/json',
    'user-agent': 'claude-cli/2.1.219 (external, sdk-cli)',
    ...options.headers,
  }
  const result = buildTurn(
    {
      requestId: options.requestId,
      request: {
        method: 'POST',
        path: '/v1/messages',
        authority: 'api.anthropic.com',
        scheme: 'https',
        headers,
        body: { chunks: [body], size: body.length, encoding: undefined, complete: true },
      },
      response: {
        status: 200,
        headers: { 'content-type': responseContentType },
        body: { chunks: [responseBody], size: responseBody.length, encoding: undefined, complete: true },
      },
      timing: { startedAt, firstResponseAt: startedAt + 100, endedAt: startedAt + 1000 },
      ending: 'complete',
      observability: false,
      attributes: {},
      metadata: {},
    },
    { envelope: DEFAULT_ENVELOPE_OPTIONS, prices: DEFAULT_PRICES, storeContent: true },
  )
  if (!result.ok) throw new Error(`dropped: ${result.reason} ${result.detail ?? ''}`)
  const turn = result.turn
  // The org comes from the gateway in production; a test names it directly.
  return options.orgId === undefined
    ? turn
    : { ...turn, envelope: { ...turn.envelope, orgId: options.orgId } }
}

const fixture = (file: string): Buffer => readFileSync(path.join(FIXTURE_DIR, file))

/** The fixture with another prompt and tool call id, for tests that need many distinct pairs. */
function variant(file: string, prompt: string | undefined, toolUseId: string | undefined): Buffer {
  const bytes = fixture(file)
  if (prompt === undefined && toolUseId === undefined) return bytes
  const json = JSON.parse(bytes.toString('utf8'))
  for (const block of json.content ?? json.messages[0].content) {
    if (block.type === 'tool_use') {
      if (prompt !== undefined) block.input.prompt = prompt
      if (toolUseId !== undefined) block.id = toolUseId
    } else if (file === 'child.request.json' && !block.text.startsWith('<') && prompt !== undefined)
      block.text = prompt
  }
  return Buffer.from(JSON.stringify(json))
}

/** The fixture's parent call (its response asks for the subagent) and the subagent's first call. */
export function fixtureCalls(options: {
  orgId?: string
  parent?: Partial<CallOptions>
  child?: Partial<CallOptions>
  /** Another subagent prompt and tool call id than the fixture's. */
  prompt?: string
  toolUseId?: string
}): { parent: Turn; child: Turn } {
  const base = { orgId: options.orgId }
  const { prompt, toolUseId } = options
  return {
    parent: turnOf(
      variant('parent.request.json', undefined, undefined),
      variant('parent.response.json', prompt, toolUseId),
      'application/json',
      { requestId: 'fixture-parent', startedAt: 1_700_000_000_000, ...base, ...options.parent },
    ),
    child: turnOf(
      variant('child.request.json', prompt, undefined),
      variant('child.response.json', undefined, undefined),
      'application/json',
      { requestId: 'fixture-child', startedAt: 1_700_000_002_000, ...base, ...options.child },
    ),
  }
}

const SESSION_HEADERS = new Set<string>(
  SIGNALS.flatMap((signal) => ('header' in signal ? [signal.header] : [])),
)

/**
 * How much of the recorded session's signals a corpus call keeps: all of them, Claude Code's own
 * headers without x-tapes-*, the body's metadata.user_id only, or nothing (a synthetic session).
 */
export type CorpusSignals = 'all' | 'native-headers' | 'metadata-only' | 'none'

/** One call of the recorded Claude Code session (1-17) as a Turn, with `signals` of its own kept. */
export function corpusCall(index: number, signals: CorpusSignals, orgId?: string): Turn {
  const dir = path.join(CORPUS_DIR, `anthropic-claudecode-session-turn${String(index).padStart(2, '0')}`)
  const read = (file: string) => readFileSync(path.join(dir, file))
  const requestMeta = JSON.parse(read('request.headers.json').toString('utf8'))
  const responseMeta = JSON.parse(read('response.headers.json').toString('utf8'))
  const recorded: HeaderMap = requestMeta.headers
  const headers = Object.fromEntries(
    Object.entries(recorded).filter(([name]) => {
      if (name === 'content-length' || name === 'accept-encoding') return false
      if (signals === 'all') return true
      if (name.startsWith('x-tapes-')) return false
      return signals === 'native-headers' || !SESSION_HEADERS.has(name)
    }),
  )
  const raw = read('response.body')
  return turnOf(
    read('request.json'),
    responseMeta.content_encoding === 'gzip' ? gunzipSync(raw) : raw,
    responseMeta.content_type,
    {
      requestId: `corpus-turn-${index}`,
      orgId,
      headers,
      // The recorded calls are seconds apart, in order.
      startedAt: 1_700_000_000_000 + index * 10_000,
      dropMetadata: signals === 'none',
    },
  )
}
