import { createRequire } from 'node:module'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/session/canonical-json.js'

// The package the chain hashed with before: the serializer must reproduce its text byte for byte.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined

describe('canonicalJson', () => {
  it('writes exactly what the canonicalize package writes for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value))
      }),
      { numRuns: 2000 },
    )
  })

  it('sorts keys by UTF-16 code units, formats numbers as ES does and skips undefined members', () => {
    const value = {
      b: [1e21, -0, 0.1, undefined],
      a: { '\u{1f600}': 1, '\uffff': 2 },
      c: undefined,
      é: 'x\u2028',
    }
    expect(canonicalJson(value)).toBe('{"a":{"\u{1f600}":1,"\uffff":2},"b":[1e+21,0,0.1,null],"é":"x\u2028"}')
    expect(canonicalJson(value)).toBe(canonicalize(value))
  })

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow()
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow()
    expect(() => canonicalJson(10n)).toThrow()
  })
})
