import { describe, expect, it } from 'vitest'
import { loadServeConfig } from '../../src/config/load.js'
import {
  BUILTIN_PROVIDER_HOSTS,
  KNOWN_PROVIDERS,
  MAX_AUTHORITY,
  PROVIDER_NAME,
  parseAuthority,
  providerForHost,
  providerHostsSchema,
} from '../../src/providers/hosts.js'
import { detectApi } from '../../src/providers/index.js'

describe('providerForHost', () => {
  it.each([
    ['api.openai.com', 'openai'],
    ['api.anthropic.com', 'anthropic'],
    ['generativelanguage.googleapis.com', 'gemini'],
    ['openrouter.ai', 'openrouter'],
    ['api.groq.com', 'groq'],
    ['api.deepseek.com', 'deepseek'],
    ['api.mistral.ai', 'mistral'],
    ['api.together.xyz', 'together'],
    ['api.fireworks.ai', 'fireworks'],
  ])('names %s %s', (host, provider) => {
    expect(providerForHost(host)).toBe(provider)
  })

  it('normalizes case, port, trailing dot, userinfo and surrounding spaces', () => {
    for (const authority of [
      'API.GROQ.COM',
      'api.groq.com:443',
      'api.groq.com.',
      ' api.groq.com ',
      'u@api.groq.com',
    ])
      expect(providerForHost(authority)).toBe('groq')
  })

  it('unknown, empty, oversized or malformed hosts name nothing and never throw', () => {
    const hostile = [
      undefined,
      '',
      'localhost:8000',
      'llm.internal',
      `${'a'.repeat(MAX_AUTHORITY)}.com`,
      'api.groq.com/evil',
      'api.groq.com:99999999',
      'api.groq.com:443:1',
      '[::1]:8000',
      'constructor',
      '__proto__',
      'hasOwnProperty',
      '.',
      ':',
      '\u0000api.groq.com',
      'api.gr\u00f6q.com',
    ]
    for (const authority of hostile) expect(providerForHost(authority)).toBeNull()
    expect(providerForHost('__proto__', { 'other.host': 'x' })).toBeNull()
  })

  it('a configured host:port wins over the host, which wins over the built-in table', () => {
    const map = providerHostsSchema.parse(
      'localhost:1234=lmstudio,localhost=local,api.openai.com=azure-proxy',
    )
    expect(providerForHost('localhost:1234', map)).toBe('lmstudio')
    expect(providerForHost('LOCALHOST:8000', map)).toBe('local')
    expect(providerForHost('localhost', map)).toBe('local')
    expect(providerForHost('api.openai.com', map)).toBe('azure-proxy')
    expect(providerForHost('api.groq.com', map)).toBe('groq')
  })

  it('parses IPv6 authorities', () => {
    expect(parseAuthority('[::1]:8000')).toEqual({ host: '[::1]', port: '8000' })
    expect(providerForHost('[::1]:8000', providerHostsSchema.parse('[::1]:8000=vllm'))).toBe('vllm')
  })

  it('every built-in provider name is in the known list (price files may name them)', () => {
    for (const name of Object.values(BUILTIN_PROVIDER_HOSTS)) {
      expect(KNOWN_PROVIDERS).toContain(name)
      expect(name).toMatch(PROVIDER_NAME)
    }
  })
})

describe('SESSIONTAP_PROVIDER_HOSTS', () => {
  it('parses host=provider entries, normalized, blank entries ignored', () => {
    expect(providerHostsSchema.parse(' LLM.Internal = VLLM , lmstudio.local:1234=lmstudio,,')).toEqual({
      'llm.internal': 'vllm',
      'lmstudio.local:1234': 'lmstudio',
    })
  })

  it.each([
    ['llm.internal', 'entry 1 is not host=provider'],
    ['llm.internal=', 'entry 1 has a provider name'],
    ['a=b,llm/x=vllm', 'entry 2 has a host "llm/x"'],
    ['llm.internal=Not Valid', 'entry 1 has a provider name'],
    [`llm.internal=${'x'.repeat(33)}`, 'entry 1 has a provider name'],
    ['user@llm.internal=vllm', 'entry 1 has a host'],
    ['a=x,A:80=y,a=z', 'entry 3 repeats the host a'],
  ])('refuses %s', (text, message) => {
    const result = providerHostsSchema.safeParse(text)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.message).toContain(message)
  })

  it('is an option of serve: a bad value stops it with one line naming the variable', () => {
    expect(loadServeConfig(new Map(), {}).providerHosts).toEqual({})
    expect(
      loadServeConfig(new Map(), { SESSIONTAP_PROVIDER_HOSTS: 'llm.internal=vllm' }).providerHosts,
    ).toEqual({
      'llm.internal': 'vllm',
    })
    expect(
      loadServeConfig(new Map([['--provider-hosts', 'x=flag']]), { SESSIONTAP_PROVIDER_HOSTS: 'x=env' })
        .providerHosts,
    ).toEqual({ x: 'flag' })
    expect(() => loadServeConfig(new Map(), { SESSIONTAP_PROVIDER_HOSTS: 'llm.internal' })).toThrow(
      /^invalid SESSIONTAP_PROVIDER_HOSTS="llm.internal": entry 1 is not host=provider/,
    )
  })
})

describe('detectApi with hosts', () => {
  it.each([
    ['openrouter.ai', '/api/v1/chat/completions', 'openrouter'],
    ['api.groq.com', '/openai/v1/chat/completions', 'groq'],
    ['api.fireworks.ai', '/inference/v1/chat/completions', 'fireworks'],
    ['api.deepseek.com', '/chat/completions', 'deepseek'],
    ['api.deepseek.com', '/v1/chat/completions', 'deepseek'],
    ['api.mistral.ai', '/v1/chat/completions', 'mistral'],
    ['api.together.xyz', '/v1/chat/completions', 'together'],
    ['localhost:8000', '/v1/chat/completions', 'openai'],
    ['localhost:1234', '/v1/chat/completions', 'openai'],
  ])('%s %s → %s', (authority, path, provider) => {
    expect(detectApi('POST', path, {}, { authority })).toEqual({ ok: true, api: 'openai.chat', provider })
  })

  it('reads :authority, then host, from the headers when no authority is given', () => {
    expect(detectApi('POST', '/v1/chat/completions', { ':authority': 'api.groq.com' })).toMatchObject({
      provider: 'groq',
    })
    expect(detectApi('POST', '/v1/chat/completions', { host: 'api.mistral.ai' })).toMatchObject({
      provider: 'mistral',
    })
  })

  it('the host names the provider of any API (OpenAI-compatible endpoints of Gemini and Anthropic)', () => {
    const gemini = detectApi(
      'POST',
      '/v1beta/openai/chat/completions',
      {},
      {
        authority: 'generativelanguage.googleapis.com',
      },
    )
    expect(gemini).toEqual({ ok: true, api: 'openai.chat', provider: 'gemini' })
    expect(
      detectApi(
        'POST',
        '/v1/messages',
        {},
        { authority: 'gw.internal', providerHosts: { 'gw.internal': 'corp' } },
      ),
    ).toEqual({ ok: true, api: 'anthropic.messages', provider: 'corp' })
  })

  it('a gateway prefix naming a known provider names it when the host does not', () => {
    const detect = (path: string, authority: string, providerHosts = {}) =>
      detectApi('POST', path, {}, { authority, providerHosts })
    expect(detect('/groq/openai/v1/chat/completions', '127.0.0.1:10000')).toMatchObject({ provider: 'groq' })
    expect(detect('/OpenRouter/api/v1/chat/completions', 'envoy')).toMatchObject({ provider: 'openrouter' })
    expect(detect('/deepseek/anthropic/v1/messages', 'envoy')).toMatchObject({
      api: 'anthropic.messages',
      provider: 'deepseek',
    })
    // The host wins; unknown segments and Groq's own /openai/ path name nothing new.
    expect(detect('/groq/v1/chat/completions', 'api.mistral.ai')).toMatchObject({ provider: 'mistral' })
    expect(detect('/groq/v1/chat/completions', 'gw', { gw: 'corp' })).toMatchObject({ provider: 'corp' })
    expect(detect('/vllm/v1/chat/completions', 'envoy')).toMatchObject({ provider: 'openai' })
    expect(detect('/openai/v1/chat/completions', 'envoy')).toMatchObject({ provider: 'openai' })
    expect(detect('/constructor/v1/chat/completions', 'envoy')).toMatchObject({ provider: 'openai' })
    expect(detect(`/${'g'.repeat(5000)}/v1/chat/completions`, 'envoy')).toMatchObject({ provider: 'openai' })
  })

  it('skipped paths stay skipped whatever the host', () => {
    expect(detectApi('POST', '/v1/embeddings', {}, { authority: 'api.groq.com' })).toEqual({
      ok: false,
      reason: 'unknown_path',
    })
  })
})
