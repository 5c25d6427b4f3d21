/**
 * Self-written Gemini exchanges in the corpus folder layout (test/fixtures/gemini-cases): reasoning
 * and cache counts with exact numbers, thought parts kept as thinking, two candidates kept as two
 * choices; and gemini-cli's Code Assist call, whose request and response chunks wrap the Gemini ones.
 * Parsed end to end as the recorder does (detect → request → decodeBody → response → chain).
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import { detectApi, parseRequest, parseResponse } from '../../src/providers/index.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import { buildChain } from '../../src/session/chain.js'

const CASES = loadExchangeCases([path.resolve(import.meta.dirname, '../fixtures/gemini-cases')])

function parse(name: string) {
  const c = CASES.find((x) => x.name === name)
  if (!c) throw new Error(`no fixture ${name}`)
  const { request, response } = c.spec
  const detected = detectApi(request.method, request.path, {})
  if (!detected.ok) throw new Error(`${name}: ${detected.reason}`)
  const parsed = parseRequest(detected.api, request.body, request.path)
  if (!parsed.ok) throw new Error(`${name}: ${parsed.reason}`)
  const decoded = decodeBody([response.body], c.recorded.contentEncoding)
  const answer = parseResponse({
    api: detected.api,
    status: response.status,
    contentType: c.recorded.contentType,
    body: decoded.bytes,
    request: parsed.value,
  })
  return { detected, request: parsed.value, response: answer }
}

describe('gemini fixture: thinking, cached content, tool-use prompt, two candidates', () => {
  const { detected, request, response } = parse('gemini-stream-thinking-cache-candidates')

  it('detects the streamed generate call and reads model, stream and tools from the request', () => {
    expect(detected).toEqual({ ok: true, api: 'gemini.generate', provider: 'gemini' })
    expect(request).toMatchObject({ model: 'gemini-2.5-flash', stream: true, toolCount: 1 })
  })

  it('counts with OpenTelemetry semantics: input has the cache and the tool-use prompt, output has the thoughts', () => {
    expect(response.usage).toEqual({
      // promptTokenCount 1200 (cachedContentTokenCount 1024 inside it) + toolUsePromptTokenCount 35
      inputTokens: 1235,
      // candidatesTokenCount 48 + thoughtsTokenCount 310 (reported apart from the candidates)
      outputTokens: 358,
      cacheReadTokens: 1024,
      cacheCreationTokens: null,
      reasoningTokens: 310,
      status: 'reported',
    })
    // Nothing counted twice or dropped: input + output is Gemini's own totalTokenCount.
    expect(response.usage.inputTokens! + response.usage.outputTokens!).toBe(1593)
  })

  it('keeps thought parts as thinking (with the signature) and each candidate as its own choice', () => {
    expect(response).toMatchObject({
      model: 'gemini-2.5-flash',
      providerResponseId: 'fx-resp-0001',
      stopReason: 'STOP',
      complete: true,
      error: null,
    })
    expect(response.message?.content).toEqual([
      { type: 'thinking', text: 'The guide favours calm hues. Blue fits.', signature: 'c2lnLWNhbmQtMA==' },
      { type: 'text', text: 'Blue: it reads as trustworthy.' },
    ])
    expect(response.alternatives).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'thinking', text: 'Energy matters for this brand.' },
          { type: 'text', text: 'Orange: it reads as energetic.' },
        ],
      },
    ])
  })

  it('records both candidates as response nodes under the request leaf (choice_hashes)', () => {
    const chain = buildChain(request, response)
    expect(chain.choiceHashes).toHaveLength(2)
    expect(chain.choiceHashes![0]).toBe(chain.responseHash)
    const byHash = new Map(chain.nodes.map((n) => [n.hash, n]))
    for (const hash of chain.choiceHashes!) {
      expect(byHash.get(hash)?.parentHash).toBe(chain.requestLeafHash)
      expect(byHash.get(hash)?.role).toBe('assistant')
    }
    expect(chain.choiceHashes![0]).not.toBe(chain.choiceHashes![1])
  })
})

describe('gemini fixture: Code Assist (gemini-cli signed in with Google), wrapped request and chunks', () => {
  const { detected, request, response } = parse('gemini-code-assist-stream')

  it('detects /v1internal:streamGenerateContent as a Gemini generate call and unwraps the request', () => {
    expect(detected).toEqual({ ok: true, api: 'gemini.generate', provider: 'gemini' })
    expect(request).toMatchObject({
      model: 'gemini-2.5-pro',
      stream: true,
      toolCount: 2,
      hints: { geminiSessionId: '5d1f0c1e-8f7a-4c2b-9a51-2f3b7c0d9e44' },
    })
    expect(request.system).toEqual([{ type: 'text', text: 'You are an interactive CLI agent.' }])
    expect(request.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'List the files here.' }] },
    ])
  })

  it('unwraps every {response, traceId} chunk: thinking, the tool call, usage, the trace id as response id', () => {
    expect(response).toMatchObject({
      model: 'gemini-2.5-pro',
      providerResponseId: 'fx-trace-9c2e',
      stopReason: 'STOP',
      complete: true,
      error: null,
    })
    expect(response.message?.content).toEqual([
      { type: 'thinking', text: 'Listing the working directory.' },
      { type: 'tool_use', id: 'list_directory', name: 'list_directory', input: { path: '/work/demo' } },
    ])
    expect(response.usage).toEqual({
      inputTokens: 9050,
      outputTokens: 82,
      cacheReadTokens: 8120,
      cacheCreationTokens: null,
      reasoningTokens: 64,
      status: 'reported',
    })
  })

  it("treats Code Assist's other methods as side endpoints; a non-streamed wrapped answer is unwrapped too", () => {
    for (const method of ['countTokens', 'loadCodeAssist', 'onboardUser', 'listExperiments'])
      expect(detectApi('POST', `/v1internal:${method}`, {})).toEqual({ ok: false, reason: 'not_a_turn' })
    const body = Buffer.from(
      JSON.stringify({
        response: {
          candidates: [{ content: { role: 'model', parts: [{ text: 'Hi' }] }, finishReason: 'STOP' }],
          usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1 },
          modelVersion: 'gemini-2.5-flash',
        },
        traceId: 't-1',
      }),
    )
    const r = parseResponse({
      api: 'gemini.generate',
      status: 200,
      contentType: 'application/json',
      body,
      request: null,
    })
    expect(r).toMatchObject({
      message: { content: [{ type: 'text', text: 'Hi' }] },
      providerResponseId: 't-1',
      complete: true,
      usage: { inputTokens: 3, outputTokens: 1 },
    })
  })

  it('refuses a Code Assist request without its inner request, as for any malformed body', () => {
    const bad = parseRequest(
      'gemini.generate',
      Buffer.from('{"model":"gemini-2.5-pro"}'),
      '/v1internal:generateContent',
    )
    expect(bad.ok).toBe(false)
  })
})
