/**
 * A synthetic coding-agent conversation as Exchanges: turn N's request resends the whole history
 * (a prompt, then N-1 rounds of an assistant tool call and its tool result of a few KB) and its
 * response is the next tool call. Anthropic Messages or OpenAI Chat; deterministic for a seed.
 */
import { createRandom } from '../../src/emulator/chunking.js'
import type { Exchange } from '../../src/exchange.js'
import { body, exchange } from '../recorder/exchanges.js'

export type ConversationFormat = 'anthropic' | 'openai'

const CODE_LINE = '  const value = compute(input, options) // keeps the previous behaviour for callers\n'

interface Round {
  /** What the assistant says before its tool call. */
  say: string
  callId: string
  tool: string
  input: Record<string, unknown>
  /** The tool's output: 1-6 KB of file content or test output. */
  output: string
}

function rounds(count: number, seed: number): Round[] {
  const next = createRandom(seed) // deterministic: every run benchmarks the same bytes
  return Array.from({ length: count }, (_, i) => {
    const file = `src/module-${Math.floor(next() * 400)}.ts`
    const edit = next() < 0.3
    return {
      say: `Round ${i}: I will ${edit ? 'edit' : 'read'} ${file} to check how it handles the failing case.`,
      callId: `toolu_${seed}_${i}`,
      tool: edit ? 'Edit' : 'Read',
      input: edit
        ? {
            file_path: file,
            old_string: CODE_LINE.repeat(3),
            new_string: CODE_LINE.repeat(4),
            replace_all: false,
          }
        : { file_path: file, offset: 0, limit: 2000 },
      output: `${i}: ${CODE_LINE.repeat(12 + Math.floor(next() * 60))}`,
    }
  })
}

const SYSTEM = `You are a coding agent. ${'Follow the repository conventions; run the tests before you finish. '.repeat(40)}`
const PROMPT = 'The parser drops the last event of a stream cut mid-line. Find out why and fix it.'

function anthropicBodies(history: Round[], next: Round): { request: object; response: object } {
  const messages: object[] = [{ role: 'user', content: [{ type: 'text', text: PROMPT }] }]
  for (const r of history) {
    messages.push(
      {
        role: 'assistant',
        content: [
          { type: 'text', text: r.say },
          { type: 'tool_use', id: r.callId, name: r.tool, input: r.input },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: r.callId, content: r.output }] },
    )
  }
  return {
    request: { model: 'claude-sonnet-4-5', max_tokens: 8192, system: SYSTEM, messages },
    response: {
      id: `msg_${next.callId}`,
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [
        { type: 'text', text: next.say },
        { type: 'tool_use', id: next.callId, name: next.tool, input: next.input },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 1000, output_tokens: 100 },
    },
  }
}

function openaiBodies(history: Round[], next: Round): { request: object; response: object } {
  const call = (r: Round) => ({
    id: r.callId,
    type: 'function',
    function: { name: r.tool, arguments: JSON.stringify(r.input) },
  })
  const messages: object[] = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: PROMPT },
  ]
  for (const r of history) {
    messages.push(
      { role: 'assistant', content: r.say, tool_calls: [call(r)] },
      { role: 'tool', tool_call_id: r.callId, content: r.output },
    )
  }
  return {
    request: { model: 'gpt-4o', messages },
    response: {
      id: `chatcmpl-${next.callId}`,
      object: 'chat.completion',
      model: 'gpt-4o-2024-08-06',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: next.say, tool_calls: [call(next)] },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 },
    },
  }
}

function exchangeOf(format: ConversationFormat, turn: number, request: object, response: object): Exchange {
  return exchange({
    requestId: `${format}-${turn}`,
    path: format === 'anthropic' ? '/v1/messages' : '/v1/chat/completions',
    authority: format === 'anthropic' ? 'api.anthropic.com' : 'api.openai.com',
    requestHeaders: { 'x-tapes-harness-session-id': `bench-${format}` },
    requestBody: body(Buffer.from(JSON.stringify(request))),
    responseHeaders: { 'content-type': 'application/json' },
    responseBody: body(Buffer.from(JSON.stringify(response))),
  })
}

/** Turns 1..count of one conversation: turn N resends N-1 rounds and is answered by round N. */
export function conversation(format: ConversationFormat, count: number, seed = 1): Exchange[] {
  const all = rounds(count, seed)
  const bodiesOf = format === 'anthropic' ? anthropicBodies : openaiBodies
  return all.map((next, i) => {
    const { request, response } = bodiesOf(all.slice(0, i), next)
    return exchangeOf(format, i + 1, request, response)
  })
}
