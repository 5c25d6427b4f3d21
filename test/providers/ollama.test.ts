import { describe, expect, it } from 'vitest'
import { parseRequest } from '../../src/providers/index.js'
import { jsonBody, ndjsonBody, respond } from './helpers.js'

describe('ollama requests', () => {
  it('maps /api/chat messages; stream defaults to true', () => {
    const parsed = parseRequest(
      'ollama.chat',
      jsonBody({
        model: 'llama3.1',
        tools: [{ type: 'function' }],
        messages: [
          { role: 'system', content: 'Short answers.' },
          { role: 'user', content: 'Hi', images: ['AAAA'] },
          {
            role: 'assistant',
            content: '',
            tool_calls: [{ function: { name: 'clock', arguments: { tz: 'UTC' } } }],
          },
          { role: 'tool', content: '12:00', tool_name: 'clock' },
        ],
      }),
      '/api/chat',
    )
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(parsed.value).toMatchObject({
      api: 'ollama.chat',
      provider: 'ollama',
      model: 'llama3.1',
      stream: true,
      toolCount: 1,
    })
    expect(parsed.value.system).toEqual([{ type: 'text', text: 'Short answers.' }])
    expect(parsed.value.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hi' },
          { type: 'image', data: 'AAAA' },
        ],
      },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'clock', name: 'clock', input: { tz: 'UTC' } }],
      },
      {
        role: 'tool',
        content: [{ type: 'tool_result', toolUseId: 'clock', output: '12:00', isError: false }],
      },
    ])
  })

  it('maps /api/generate prompt and system; stream:false is honoured', () => {
    const parsed = parseRequest(
      'ollama.generate',
      jsonBody({ model: 'm', prompt: 'Say hi', system: 'Sys', stream: false }),
      '/api/generate',
    )
    expect(parsed.ok && parsed.value).toMatchObject({
      stream: false,
      system: [{ type: 'text', text: 'Sys' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hi' }] }],
    })
  })
})

describe('ollama responses', () => {
  const lines = [
    { model: 'qwen3', message: { role: 'assistant', content: '', thinking: 'Hmm' }, done: false },
    { model: 'qwen3', message: { role: 'assistant', content: 'Hel' }, done: false },
    { model: 'qwen3', message: { role: 'assistant', content: 'lo' }, done: false },
    {
      model: 'qwen3',
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 26,
      eval_count: 9,
      total_duration: 4883583458,
      load_duration: 1334875,
      prompt_eval_duration: 342546000,
      eval_duration: 4535599000,
    },
  ]

  it('folds an NDJSON chat stream and takes counts from the done line', () => {
    const r = respond('ollama.chat', ndjsonBody(lines), 'application/x-ndjson')
    expect(r.message?.content).toEqual([
      { type: 'thinking', text: 'Hmm' },
      { type: 'text', text: 'Hello' },
    ])
    expect(r).toMatchObject({ model: 'qwen3', stopReason: 'stop', providerResponseId: null, complete: true })
    expect(r.usage).toEqual({
      inputTokens: 26,
      outputTokens: 9,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      reasoningTokens: null,
      status: 'reported',
    })
    expect(r.providerTiming).toEqual({
      totalNs: 4883583458,
      loadNs: 1334875,
      promptEvalNs: 342546000,
      evalNs: 4535599000,
    })
  })

  it('keeps only the durations the done line reports, and none when it reports none', () => {
    const partial = respond(
      'ollama.generate',
      jsonBody({ model: 'm', response: 'x', done: true, total_duration: 10, eval_duration: 'soon' }),
      'application/json',
    )
    expect(partial.providerTiming).toEqual({ totalNs: 10 })
    const none = respond(
      'ollama.generate',
      jsonBody({ model: 'm', response: 'x', done: true }),
      'application/json',
    )
    expect(none.providerTiming).toBeUndefined()
  })

  it('drops wrongly shaped lines without throwing and still reads tool calls and the done line', () => {
    const body = ndjsonBody([
      lines[1],
      { model: 'qwen3', message: { role: 'assistant', content: 5 }, done: false },
      { model: 'qwen3', message: 'not an object', done: false },
      { model: 'qwen3', message: { role: 'assistant', content: 'x' }, done: 'no' },
      {
        model: 'qwen3',
        message: {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'ls', arguments: {} } }],
        },
        done: false,
      },
      lines[3],
    ])
    const r = respond('ollama.chat', body, 'application/x-ndjson')
    expect(r.message?.content).toEqual([
      { type: 'text', text: 'Hel' },
      { type: 'tool_use', id: 'ls', name: 'ls', input: {} },
    ])
    expect(r).toMatchObject({ complete: true, stopReason: 'stop' })
  })

  it('keeps a stream without done:true as incomplete with missing usage', () => {
    const r = respond('ollama.chat', ndjsonBody(lines.slice(0, 3)), 'application/x-ndjson')
    expect(r.complete).toBe(false)
    expect(r.usage.status).toBe('missing')
    expect(r.providerTiming).toBeUndefined()
    expect(r.message?.content.at(-1)).toEqual({ type: 'text', text: 'Hello' })
  })

  it('parses a non-streamed /api/generate body and an error', () => {
    const r = respond(
      'ollama.generate',
      jsonBody({
        model: 'llama3.1',
        response: 'Hi!',
        done: true,
        done_reason: 'stop',
        prompt_eval_count: 5,
        eval_count: 2,
      }),
      'application/json; charset=utf-8',
    )
    expect(r).toMatchObject({
      message: { content: [{ type: 'text', text: 'Hi!' }] },
      complete: true,
      usage: { inputTokens: 5, outputTokens: 2 },
    })
    const err = respond('ollama.chat', jsonBody({ error: "model 'x' not found" }), 'application/json', 404)
    expect(err.error).toEqual({ type: 'http_404', message: "model 'x' not found" })
  })

  it('folds a streamed /api/generate with top-level thinking and takes its durations', () => {
    const r = respond(
      'ollama.generate',
      ndjsonBody([
        { model: 'gpt-oss:20b', response: '', thinking: 'Need three', done: false },
        { model: 'gpt-oss:20b', response: '', thinking: ' words.', done: false },
        { model: 'gpt-oss:20b', response: 'Soft, quick, curious.', done: false },
        {
          model: 'gpt-oss:20b',
          response: '',
          done: true,
          done_reason: 'length',
          total_duration: 912000000,
          load_duration: 61000000,
          prompt_eval_count: 72,
          prompt_eval_duration: 40000000,
          eval_count: 31,
          eval_duration: 800000000,
        },
      ]),
      'application/x-ndjson',
    )
    expect(r.message?.content).toEqual([
      { type: 'thinking', text: 'Need three words.' },
      { type: 'text', text: 'Soft, quick, curious.' },
    ])
    expect(r).toMatchObject({
      stopReason: 'length',
      complete: true,
      usage: { inputTokens: 72, outputTokens: 31 },
    })
    expect(r.providerTiming).toEqual({
      totalNs: 912000000,
      loadNs: 61000000,
      promptEvalNs: 40000000,
      evalNs: 800000000,
    })
  })

  it('fails a 200 stream that carries an error line, keeping what came before it', () => {
    const r = respond(
      'ollama.chat',
      ndjsonBody([lines[1], { error: 'an error was encountered while running the model: unexpected EOF' }]),
      'application/x-ndjson',
    )
    expect(r.complete).toBe(false)
    expect(r.error?.message).toBe('an error was encountered while running the model: unexpected EOF')
    expect(r.message?.content).toEqual([{ type: 'text', text: 'Hel' }])
  })
})
