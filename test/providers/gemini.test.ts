import { describe, expect, it } from 'vitest'
import { parseRequest } from '../../src/providers/index.js'
import { jsonBody, respond, sseBody, truncate } from './helpers.js'

const PATH = '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse'

describe('gemini.generate request', () => {
  it('takes model and stream from the path and maps contents, system and tools', () => {
    const parsed = parseRequest(
      'gemini.generate',
      jsonBody({
        systemInstruction: { parts: [{ text: 'Be kind.' }] },
        tools: [{ functionDeclarations: [{ name: 'a' }, { name: 'b' }] }, { googleSearch: {} }],
        contents: [
          {
            role: 'user',
            parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/jpeg', data: 'QUJD' } }],
          },
          { role: 'model', parts: [{ functionCall: { name: 'a', args: { city: 'Oslo' } } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'a', response: { temp: 3 } } }] },
        ],
      }),
      PATH,
    )
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(parsed.value).toMatchObject({ model: 'gemini-2.5-pro', stream: true, toolCount: 3 })
    expect(parsed.value.system).toEqual([{ type: 'text', text: 'Be kind.' }])
    expect(parsed.value.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image', mediaType: 'image/jpeg', data: 'QUJD' },
        ],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'a', name: 'a', input: { city: 'Oslo' } }] },
      {
        role: 'user',
        content: [{ type: 'tool_result', toolUseId: 'a', output: '{"temp":3}', isError: false }],
      },
    ])
    const plain = parseRequest(
      'gemini.generate',
      jsonBody({ contents: [] }),
      '/v1/models/gemini-2.0-flash:generateContent',
    )
    expect(plain.ok && plain.value).toMatchObject({ model: 'gemini-2.0-flash', stream: false })
  })
})

const chunks = [
  {
    candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'Thinking…', thought: true }] } }],
    usageMetadata: { promptTokenCount: 11, totalTokenCount: 11 },
    modelVersion: 'gemini-2.5-pro',
    responseId: 'r-1',
  },
  {
    candidates: [{ index: 0, content: { role: 'model', parts: [{ text: 'It is ' }] } }],
    modelVersion: 'gemini-2.5-pro',
  },
  {
    candidates: [
      {
        index: 0,
        content: {
          role: 'model',
          parts: [{ text: 'sunny.' }, { functionCall: { id: 'fc1', name: 'log', args: {} } }],
        },
        finishReason: 'STOP',
      },
    ],
    usageMetadata: {
      promptTokenCount: 11,
      cachedContentTokenCount: 4,
      candidatesTokenCount: 5,
      thoughtsTokenCount: 20,
    },
    modelVersion: 'gemini-2.5-pro',
  },
]

const EXPECTED_CONTENT = [
  { type: 'thinking', text: 'Thinking…' },
  { type: 'text', text: 'It is sunny.' },
  { type: 'tool_use', id: 'fc1', name: 'log', input: {} },
]

describe('gemini.generate response', () => {
  it('folds a streamed JSON array (no alt=sse) and adds thoughts to output tokens', () => {
    const body = Buffer.from(`[${chunks.map((c) => JSON.stringify(c, null, 2)).join('\r\n,\r\n')}]`)
    const r = respond('gemini.generate', body, 'application/json; charset=UTF-8')
    expect(r.message?.content).toEqual(EXPECTED_CONTENT)
    expect(r).toMatchObject({
      model: 'gemini-2.5-pro',
      providerResponseId: 'r-1',
      stopReason: 'STOP',
      complete: true,
    })
    expect(r.usage).toEqual({
      inputTokens: 11,
      outputTokens: 25,
      cacheReadTokens: 4,
      cacheCreationTokens: null,
      reasoningTokens: 20,
      status: 'reported',
    })
  })

  it('folds the alt=sse form the same way', () => {
    const r = respond('gemini.generate', sseBody(chunks.map((c) => [undefined, c])), 'text/event-stream')
    expect(r.message?.content).toEqual(EXPECTED_CONTENT)
    expect(r.complete).toBe(true)
  })

  it('marks a stream without a final finishReason incomplete', () => {
    const body = Buffer.from(`[${chunks.map((c) => JSON.stringify(c)).join(',')}]`)
    const cut = respond('gemini.generate', truncate(body, 60), 'application/json')
    expect(cut.complete).toBe(false)
    expect(cut.message?.content[0]).toEqual({ type: 'thinking', text: 'Thinking…' })
    const early = respond(
      'gemini.generate',
      Buffer.from(`[${JSON.stringify(chunks[0])},${JSON.stringify(chunks[1])}]`),
      'application/json',
    )
    expect(early.complete).toBe(false)
  })

  it('reads an error, also when streamed inside the array', () => {
    const error = { error: { code: 429, message: 'Resource exhausted.', status: 'RESOURCE_EXHAUSTED' } }
    expect(respond('gemini.generate', jsonBody(error), 'application/json', 429).error).toEqual({
      type: 'RESOURCE_EXHAUSTED',
      message: 'Resource exhausted.',
    })
    expect(respond('gemini.generate', jsonBody([error]), 'application/json', 429).error?.type).toBe(
      'RESOURCE_EXHAUSTED',
    )
  })
})
