/**
 * storableJson / storableText: only what Postgres rejects is replaced, everything else is kept.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { storableJson, storableText } from '../../src/store/pg-text.js'

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what Postgres rejects
const REJECTED = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

describe('storable text', () => {
  it('maps empty to null and replaces NUL and lone surrogates', () => {
    expect(storableText('')).toBeNull()
    expect(storableText(null)).toBeNull()
    expect(storableText('a\u0000b\udc00c😀')).toBe('a\ufffdb\ufffdc😀')
  })

  it('keeps an escaped backslash followed by u0000 literally', () => {
    const value = { s: '\\u0000 and \u0000' }
    expect(JSON.parse(storableJson(value))).toEqual({ s: '\\u0000 and \ufffd' })
  })

  it('yields JSON equal to the input apart from the rejected characters', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        const input = { value, text }
        const parsed = JSON.parse(storableJson(input))
        const expected = JSON.parse(JSON.stringify(input), (_k, v) =>
          typeof v === 'string' ? v.replace(new RegExp(REJECTED, 'g'), '\ufffd') : v,
        )
        expect(parsed).toEqual(expected)
        expect(REJECTED.test(JSON.stringify(parsed))).toBe(false)
      }),
    )
  })
})
