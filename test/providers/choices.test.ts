/** Every choice (OpenAI n > 1) and candidate (Gemini candidateCount > 1) is recorded, in index order. */
import { describe, expect, it } from 'vitest'
import { jsonBody, respond, sseBody } from './helpers.js'

const SSE = 'text/event-stream'
const text = (t: string) => ({ role: 'assistant', content: [{ type: 'text', text: t }] })

describe('OpenAI chat with n > 1', () => {
  it('keeps every choice of a JSON body; the first is the message, its finish_reason the stop reason', () => {
    const r = respond(
      'openai.chat',
      jsonBody({
        id: 'chatcmpl-n2',
        model: 'gpt-4o-mini',
        choices: [
          { index: 1, message: { role: 'assistant', content: 'Two' }, finish_reason: 'length' },
          { index: 0, message: { role: 'assistant', content: 'One' }, finish_reason: 'stop' },
          {
            index: 2,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 9 },
      }),
      'application/json',
    )
    expect(r.message).toEqual(text('One'))
    expect(r.alternatives).toEqual([
      text('Two'),
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'f', input: { x: 1 } }] },
    ])
    expect(r.stopReason).toBe('stop')
    expect(r.complete).toBe(true)
  })

  it('assembles interleaved streamed deltas by choice index', () => {
    const chunk = (index: number, delta: object, finish: string | null = null) => ({
      id: 'chatcmpl-s2',
      model: 'gpt-4o-mini',
      choices: [{ index, delta, finish_reason: finish }],
    })
    const r = respond(
      'openai.chat',
      sseBody([
        [undefined, chunk(0, { role: 'assistant', content: 'He' })],
        [undefined, chunk(1, { role: 'assistant', content: 'Bon' })],
        [undefined, chunk(1, { content: 'jour' }, 'stop')],
        [undefined, chunk(0, { content: 'llo' }, 'length')],
        [undefined, { id: 'chatcmpl-s2', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }],
        [undefined, '[DONE]'],
      ]),
      SSE,
    )
    expect(r.message).toEqual(text('Hello'))
    expect(r.alternatives).toEqual([text('Bonjour')])
    expect(r.stopReason).toBe('length')
    expect(r.usage).toMatchObject({ inputTokens: 3, outputTokens: 4 })
  })

  it('has no alternatives with one choice', () => {
    const r = respond(
      'openai.chat',
      jsonBody({ choices: [{ index: 0, message: { content: 'Only' }, finish_reason: 'stop' }] }),
      'application/json',
    )
    expect(r.alternatives).toBeUndefined()
  })
})

describe('Gemini with two candidates', () => {
  it('keeps both candidates, streamed as a JSON array', () => {
    const r = respond(
      'gemini.generate',
      jsonBody([
        {
          candidates: [
            { index: 0, content: { role: 'model', parts: [{ text: 'Red' }] } },
            { index: 1, content: { role: 'model', parts: [{ text: 'Bl' }] } },
          ],
          modelVersion: 'gemini-2.5-flash',
        },
        {
          candidates: [
            { index: 1, content: { role: 'model', parts: [{ text: 'ue' }] }, finishReason: 'STOP' },
            { index: 0, content: { role: 'model', parts: [{ text: ' apple' }] }, finishReason: 'MAX_TOKENS' },
          ],
          usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6 },
        },
      ]),
      'application/json',
    )
    expect(r.message).toEqual(text('Red apple'))
    expect(r.alternatives).toEqual([text('Blue')])
    expect(r.stopReason).toBe('MAX_TOKENS')
    expect(r.complete).toBe(true)
  })
})
