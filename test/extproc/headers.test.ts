/**
 * Header values arrive as octets: UTF-8 is read as UTF-8, anything else is kept escaped, byte for
 * byte, so a hostile x-request-id is stored legibly instead of garbled; credentials never pass.
 */
import { describe, expect, it } from 'vitest'
import { headerValue, splitHeaders } from '../../src/extproc/headers.js'

describe('header values', () => {
  it('reads ASCII and UTF-8 bytes as text', () => {
    expect(headerValue({ raw_value: Buffer.from('req-123') })).toBe('req-123')
    expect(headerValue({ raw_value: Buffer.from('Zürich ✓', 'utf8') })).toBe('Zürich ✓')
  })

  it('escapes bytes that are not UTF-8, and control characters among them, as \\xHH', () => {
    expect(headerValue({ raw_value: Buffer.from([0x61, 0xff, 0xfe, 0x62]) })).toBe('a\\xff\\xfeb')
    expect(headerValue({ raw_value: Buffer.from([0xe9, 0x09, 0x41]) })).toBe('\\xe9\\x09A')
  })

  it('splits pseudo-headers off and never passes credentials on', () => {
    const { pseudo, headers } = splitHeaders({
      headers: [
        { key: ':path', raw_value: Buffer.from('/v1/messages') },
        { key: 'Authorization', raw_value: Buffer.from('Bearer sk-secret') },
        { key: 'x-request-id', raw_value: Buffer.from([0x72, 0xc3, 0x28]) },
      ],
    })
    expect(pseudo).toEqual({ ':path': '/v1/messages' })
    expect(headers).toEqual({ 'x-request-id': 'r\\xc3(' })
  })
})
