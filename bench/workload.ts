/**
 * What the benchmarks play: the real Claude Code session from ../shared/corpus (or a self-written
 * stand-in of the same shape when the corpus is absent), and synthetic Anthropic Messages exchanges
 * of any body size (an SSE response) for the stall, memory and body-size scenarios.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { loadExchangeCases } from '../src/emulator/cases.js'
import type { HttpExchangeSpec } from '../src/emulator/types.js'

export const CORPUS_DIR = path.resolve(process.cwd(), '../shared/corpus')
const SESSION_PREFIX = 'anthropic-claudecode-session-'

const FILLER = 'The agent read the file, ran the tests and reported what it found; nothing else changed. '

function sessionHeaders(sessionId: string): Array<[string, string]> {
  return [
    ['content-type', 'application/json'],
    ['anthropic-version', '2023-06-01'],
    ['x-tapes-harness-id', 'claude'],
    ['x-tapes-harness-session-id', sessionId],
    ['x-tapes-cwd', '/work'],
  ]
}

function text(bytes: number, seed: string): string {
  return `${seed} ${FILLER.repeat(Math.max(1, Math.ceil(bytes / FILLER.length)))}`.slice(
    0,
    Math.max(1, bytes),
  )
}

/** An Anthropic Messages request of about `bytes` bytes: a history of user/assistant turns. */
function requestBody(bytes: number, turns: number, seed: string): Buffer {
  const per = Math.max(16, Math.floor(bytes / Math.max(1, turns)) - 60)
  const messages = Array.from({ length: turns }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: [{ type: 'text', text: text(per, `${seed} message ${i}`) }],
  }))
  return Buffer.from(
    JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8192, stream: true, messages }),
    'utf8',
  )
}

/** An Anthropic SSE response of about `bytes` bytes, in ~200-byte text deltas. */
function sseBody(bytes: number, seed: string): Buffer {
  const events = [
    `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: `msg_${seed}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], usage: { input_tokens: 100, output_tokens: 1 } } })}\n\n`,
    `event: content_block_start\ndata: ${JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })}\n\n`,
  ]
  let size = 0
  for (let i = 0; size < bytes; i++) {
    const event = `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: text(150, `${i}`) } })}\n\n`
    events.push(event)
    size += event.length
  }
  events.push(
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
    `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 900 } })}\n\n`,
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  )
  return Buffer.from(events.join(''), 'utf8')
}

/** One synthetic streaming Anthropic exchange with the given body sizes. */
export function syntheticExchange(
  name: string,
  requestBytes: number,
  responseBytes: number,
  sessionId = name,
): HttpExchangeSpec {
  return {
    name,
    request: {
      method: 'POST',
      path: '/v1/messages',
      authority: 'api.anthropic.com',
      scheme: 'https',
      headers: sessionHeaders(sessionId),
      body: requestBody(requestBytes, 20, name),
    },
    response: {
      status: 200,
      headers: [['content-type', 'text/event-stream']],
      body: sseBody(responseBytes, name),
    },
  }
}

/** A 15-turn session whose history grows each turn, like the recorded one. */
function standInSession(): HttpExchangeSpec[] {
  return Array.from({ length: 15 }, (_, i) =>
    syntheticExchange(`stand-in-turn${String(i + 1).padStart(2, '0')}`, 4000 + i * 9000, 2500, 'stand-in'),
  )
}

export interface Session {
  source: 'corpus' | 'stand-in'
  specs: HttpExchangeSpec[]
}

/** The recorded Claude Code session (15 turns, gzip SSE responses), or the stand-in. */
export function claudeCodeSession(): Session {
  if (existsSync(CORPUS_DIR)) {
    const specs = loadExchangeCases([CORPUS_DIR])
      .filter((c) => c.name.startsWith(SESSION_PREFIX))
      .map((c) => c.spec)
    if (specs.length > 0) return { source: 'corpus', specs }
  }
  return { source: 'stand-in', specs: standInSession() }
}

export function totalBytes(specs: readonly HttpExchangeSpec[]): number {
  return specs.reduce((n, s) => n + s.request.body.length + s.response.body.length, 0)
}
