/**
 * SESSIONTAP_API_TOKENS parsing and the constant-time token resolver.
 */
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { apiTokensSchema, bearerToken, createTokenResolver } from '../../src/http/tokens.js'

const ORG_A = randomUUID()
const ORG_B = randomUUID()

describe('API tokens', () => {
  it('parses token:org pairs, trimming spaces and lower-casing the org', () => {
    expect(
      apiTokensSchema.parse(`alpha-0123456789abcdef:${ORG_A.toUpperCase()}, beta+/=_~.0123456789:${ORG_B}`),
    ).toEqual([
      { token: 'alpha-0123456789abcdef', orgId: ORG_A },
      { token: 'beta+/=_~.0123456789', orgId: ORG_B },
    ])
  })

  it('rejects bad entries by position, never echoing the secret', () => {
    const secret = 'short-secret'
    for (const [text, reason] of [
      [`${secret}:${ORG_A}`, 'entry 1 has a token that is not 16-256 characters'],
      [`good-token-0123456789:${ORG_A},no-colon-here-0123456789`, 'entry 2 is not token:org-uuid'],
      ['good-token-0123456789:not-a-uuid', 'entry 1 has an org that is not a UUID'],
      [`bad;token;0123456789abc:${ORG_A}`, 'entry 1 has a token'],
      [`same-token-0123456789:${ORG_A},same-token-0123456789:${ORG_B}`, 'entry 2 repeats an earlier token'],
      ['', 'entry 1 is not token:org-uuid'],
    ] as const) {
      const result = apiTokensSchema.safeParse(text)
      expect(result.success, text).toBe(false)
      const message = result.error!.issues.map((i) => i.message).join('; ')
      expect(message).toContain(reason)
      expect(message).not.toContain(secret)
    }
  })

  it('resolves a presented token to its org and nothing else', () => {
    const resolve = createTokenResolver([
      { token: 'alpha-0123456789abcdef', orgId: ORG_A },
      { token: 'beta-0123456789abcdef', orgId: ORG_B },
    ])
    expect(resolve('alpha-0123456789abcdef')).toBe(ORG_A)
    expect(resolve('beta-0123456789abcdef')).toBe(ORG_B)
    expect(resolve('alpha-0123456789abcde')).toBeNull()
    expect(resolve('alpha-0123456789abcdefX')).toBeNull()
    expect(resolve('')).toBeNull()
    expect(resolve(undefined)).toBeNull()
    expect(createTokenResolver([])('alpha-0123456789abcdef')).toBeNull()
  })

  it('reads only Bearer authorization headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc')
    expect(bearerToken('bearer   abc  ')).toBe('abc')
    expect(bearerToken('Basic abc')).toBeUndefined()
    expect(bearerToken('Bearer a b')).toBeUndefined()
    expect(bearerToken(undefined)).toBeUndefined()
  })
})
