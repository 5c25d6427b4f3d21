/**
 * A self-written Gemini exchange in the corpus folder layout (test/fixtures/gemini-cases): reasoning
 * and cache counts with exact numbers, thought parts kept as thinking, two candidates kept as two
 * choices. Parsed end to end as the recorder does (detect → request → decodeBody → response → chain).
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import { decodeBody } from '../../src/extproc/body-decoding.js'
import { detectApi, parseRequest, parseResponse } from '../../src/providers/index.js'
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
