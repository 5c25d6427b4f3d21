import { describe, expect, it } from 'vitest'
import { detectApi, SKIP_REASONS } from '../../src/providers/index.js'

const H = {}

describe('detectApi', () => {
  it.each([
    ['/v1/chat/completions', 'openai.chat', 'openai'],
    ['/openai/v1/chat/completions', 'openai.chat', 'openai'],
    ['/openai/deployments/gpt4/chat/completions?api-version=2024-10-21', 'openai.chat', 'openai'],
    ['/v1/responses', 'openai.responses', 'openai'],
    ['/backend-api/codex/responses/', 'openai.responses', 'openai'],
    ['/v1/messages', 'anthropic.messages', 'anthropic'],
    ['/anthropic/v1/messages', 'anthropic.messages', 'anthropic'],
    ['/local-gw/anthropic/v1/messages?beta=true', 'anthropic.messages', 'anthropic'],
    ['/v1beta/models/gemini-2.5-flash:generateContent', 'gemini.generate', 'gemini'],
    ['/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', 'gemini.generate', 'gemini'],
    ['/api/chat', 'ollama.chat', 'ollama'],
    ['/ollama/api/generate', 'ollama.generate', 'ollama'],
  ] as const)('detects %s as %s', (path, api, provider) => {
    expect(detectApi('POST', path, H)).toEqual({ ok: true, api, provider })
  })

  it.each([
    ['/v1/messages/count_tokens', 'not_a_turn'],
    ['/v1/responses/resp_123', 'not_a_turn'],
    ['/v1/responses/resp_123/cancel', 'not_a_turn'],
    ['/v1/chat/completions/chatcmpl-1', 'not_a_turn'],
    ['/v1beta/models/gemini-2.5-flash:countTokens', 'not_a_turn'],
    ['/v1/embeddings', 'unknown_path'],
    ['/v1/messagesx', 'unknown_path'],
    ['/health', 'unknown_path'],
  ] as const)('skips %s as %s', (path, reason) => {
    expect(detectApi('POST', path, H)).toEqual({ ok: false, reason })
  })

  it('skips non-POST requests before looking at the path', () => {
    expect(detectApi('GET', '/v1/chat/completions', H)).toEqual({ ok: false, reason: 'not_post' })
    expect(detectApi('post', '/v1/chat/completions', H)).toMatchObject({ ok: true })
  })

  it('only ever answers with reasons from the closed list', () => {
    for (const path of ['/', '', '?', '/v1/messages/batches', '/api/tags']) {
      const result = detectApi('POST', path, H)
      if (!result.ok) expect(SKIP_REASONS).toContain(result.reason)
    }
  })
})
