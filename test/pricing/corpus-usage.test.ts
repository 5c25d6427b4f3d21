/**
 * Checks that the usage literals priced in cost.test.ts are what the recorded corpus responses say,
 * read straight from the raw usage blocks (provider parsing is not under test here).
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeBody } from '../../src/recorder/body-decoding.js'

const corpus = path.resolve(process.cwd(), '../shared/corpus')
const haveCorpus = existsSync(path.join(corpus, 'INDEX.md'))
if (!haveCorpus) console.warn(`pricing corpus checks skipped: no corpus at ${corpus}`)

function responseText(caseName: string): string {
  const dir = path.join(corpus, caseName)
  const headers = JSON.parse(readFileSync(path.join(dir, 'response.headers.json'), 'utf8')) as {
    content_encoding?: string
  }
  const decoded = decodeBody([readFileSync(path.join(dir, 'response.body'))], headers.content_encoding)
  expect(decoded.error).toBeUndefined()
  return decoded.bytes.toString('utf8')
}

/** The JSON payloads of an SSE body's `data:` lines. */
function sseEvents(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:') && line.slice(5).trim().startsWith('{'))
    .map((line) => JSON.parse(line.slice(5)) as Record<string, unknown>)
}

describe.skipIf(!haveCorpus)('corpus usage behind the cost.test.ts literals', () => {
  it('anthropic-claudecode-session-turn03', () => {
    const events = sseEvents(responseText('anthropic-claudecode-session-turn03'))
    const start = events.find((e) => e.type === 'message_start') as { message: { model: string } }
    const delta = events.findLast((e) => e.type === 'message_delta') as { usage: Record<string, unknown> }
    expect(start.message.model).toBe('claude-sonnet-4-6')
    expect(delta.usage).toMatchObject({
      input_tokens: 2,
      cache_creation_input_tokens: 2005,
      cache_read_input_tokens: 33153,
      output_tokens: 396,
      output_tokens_details: { thinking_tokens: 248 },
    })
    expect(JSON.stringify(events)).toContain('"ephemeral_1h_input_tokens":2005')
  })

  it('openai-chat-nonstream-gzip-tools-turn01', () => {
    const body = JSON.parse(responseText('openai-chat-nonstream-gzip-tools-turn01'))
    expect(body.model).toBe('gpt-4o-mini-2024-07-18')
    expect(body.usage).toMatchObject({
      prompt_tokens: 92,
      completion_tokens: 17,
      prompt_tokens_details: { cached_tokens: 0 },
    })
  })

  it('openai-chat-stream-usage-01', () => {
    const final = sseEvents(responseText('openai-chat-stream-usage-01')).findLast((e) => e.usage) as {
      model: string
      usage: Record<string, unknown>
    }
    expect(final.model).toBe('gpt-5-nano-2025-08-07')
    expect(final.usage).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 100,
      completion_tokens_details: { reasoning_tokens: 100 },
    })
  })

  it('gemini-generatecontent-nonstream-system-01', () => {
    const body = JSON.parse(responseText('gemini-generatecontent-nonstream-system-01'))
    expect(body.modelVersion).toBe('gemini-3-pro-preview')
    expect(body.usageMetadata).toMatchObject({
      promptTokenCount: 15,
      candidatesTokenCount: 8,
      thoughtsTokenCount: 106,
    })
  })

  it('anthropic-messages-nonstream-system-01', () => {
    const body = JSON.parse(responseText('anthropic-messages-nonstream-system-01'))
    expect(body.model).toBe('claude-sonnet-4-20250514')
    expect(body.usage).toMatchObject({ input_tokens: 20, output_tokens: 13 })
  })
})
