/**
 * A response that produced no visible content (every token spent on hidden reasoning, cut by
 * max tokens) is still an assistant message with empty content, for every provider.
 */
import { describe, expect, it } from 'vitest'
import { jsonBody, ndjsonBody, respond, sseBody } from './helpers.js'

const EMPTY = { role: 'assistant', content: [] }

describe('empty assistant responses', () => {
  it('OpenAI chat: content null or "" with finish_reason length, reasoning tokens reported', () => {
    for (const content of [null, '']) {
      const r = respond(
        'openai.chat',
        jsonBody({
          id: 'chatcmpl-e',
          model: 'o4-mini',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'length' }],
          usage: {
            prompt_tokens: 20,
            completion_tokens: 256,
            completion_tokens_details: { reasoning_tokens: 256 },
          },
        }),
        'application/json',
      )
      expect(r.message).toEqual(EMPTY)
      expect(r.stopReason).toBe('length')
      expect(r.usage).toMatchObject({ outputTokens: 256, reasoningTokens: 256 })
    }
  })

  it('OpenAI chat streamed: only a role delta and a finish_reason', () => {
    const r = respond(
      'openai.chat',
      sseBody([
        [undefined, { id: 'c', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }],
        [undefined, { id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'length' }] }],
        [undefined, '[DONE]'],
      ]),
      'text/event-stream',
    )
    expect(r.message).toEqual(EMPTY)
  })

  it('Responses: an incomplete response whose only item is encrypted reasoning', () => {
    const r = respond(
      'openai.responses',
      jsonBody({
        id: 'resp_e',
        model: 'o4-mini',
        status: 'incomplete',
        incomplete_details: { reason: 'max_output_tokens' },
        output: [{ type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAAA-opaque' }],
        usage: { input_tokens: 10, output_tokens: 64, output_tokens_details: { reasoning_tokens: 64 } },
      }),
      'application/json',
    )
    expect(r.message?.role).toBe('assistant')
    expect(r.stopReason).toBe('max_output_tokens')
    expect(r.usage.reasoningTokens).toBe(64)
  })

  it('Responses: status completed with an empty output list', () => {
    const r = respond(
      'openai.responses',
      jsonBody({ id: 'resp_0', model: 'gpt-5', status: 'completed', output: [] }),
      'application/json',
    )
    expect(r.message).toEqual(EMPTY)
  })

  it('Gemini: a candidate with a finishReason and no parts', () => {
    const r = respond(
      'gemini.generate',
      jsonBody({
        candidates: [{ index: 0, finishReason: 'MAX_TOKENS' }],
        usageMetadata: { thoughtsTokenCount: 8 },
      }),
      'application/json',
    )
    expect(r.message).toEqual(EMPTY)
  })

  it('Ollama: a done line with no content', () => {
    const r = respond(
      'ollama.chat',
      ndjsonBody([
        { model: 'qwen3', message: { role: 'assistant', content: '' }, done: true, done_reason: 'length' },
      ]),
      'application/x-ndjson',
    )
    expect(r.message).toEqual(EMPTY)
  })

  it('Anthropic: message_stop after max_tokens with no content block', () => {
    const r = respond(
      'anthropic.messages',
      sseBody([
        [
          'message_start',
          {
            type: 'message_start',
            message: { id: 'msg_e', model: 'claude', content: [], usage: { input_tokens: 3 } },
          },
        ],
        [
          'message_delta',
          { type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 1 } },
        ],
        ['message_stop', { type: 'message_stop' }],
      ]),
      'text/event-stream',
    )
    expect(r.message).toEqual(EMPTY)
  })

  it('an error or a stream cut before anything arrived is still no message', () => {
    expect(
      respond('openai.chat', jsonBody({ error: { message: 'x' } }), 'application/json', 500).message,
    ).toBeNull()
    expect(respond('openai.chat', Buffer.from(''), 'text/event-stream').message).toBeNull()
  })
})
