import { describe, expect, it } from 'vitest'
import {
  decodeMetadata,
  pathUnescape,
  readTapesHeaders,
  TAPES_HEADER_BUDGET_BYTES,
} from '../../src/session/tapes-headers.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

describe('pathUnescape', () => {
  it('decodes UTF-8 escapes and keeps +', () => {
    expect(pathUnescape('/tmp/my%20dir+x/%C3%A9')).toBe('/tmp/my dir+x/é')
  })

  it('keeps the raw value when an escape is malformed', () => {
    expect(pathUnescape('/a%2/b%zz')).toBe('/a%2/b%zz')
  })

  it('returns null for bytes that are not UTF-8', () => {
    expect(pathUnescape('%FF%FE')).toBeNull()
  })
})

describe('decodeMetadata', () => {
  it('decodes an unpadded base64url JSON object', () => {
    expect(decodeMetadata(b64({ kind: 'interactive', n: 1 }))).toEqual({
      ok: true,
      value: { kind: 'interactive', n: 1 },
    })
  })

  it.each([
    ['padding', `${b64({ a: 1 })}==`, 'invalid_base64'],
    ['standard base64 alphabet', '+/+/', 'invalid_base64'],
    ['impossible length', 'abcde', 'invalid_base64'],
    ['not JSON', Buffer.from('{nope').toString('base64url'), 'invalid_json'],
    ['an array', b64([1, 2]), 'not_an_object'],
    ['a string', b64('x'), 'not_an_object'],
    ['null', b64(null), 'not_an_object'],
    ['over 4 KiB', b64({ pad: 'x'.repeat(4100) }), 'too_large'],
  ])('rejects %s', (_name, value, reason) => {
    expect(decodeMetadata(value)).toEqual({ ok: false, reason })
  })
})

describe('readTapesHeaders', () => {
  it('reads every envelope header', () => {
    const rejected: string[] = []
    const envelope = readTapesHeaders(
      {
        'x-tapes-harness-id': 'claude',
        'x-tapes-harness-session-id': 'ac9b5a71-50d4-47c2-b771-4d5c3e96d899',
        'x-tapes-harness-version': '2.1.219',
        'x-tapes-cwd': '/private/tmp/run%20one',
        'x-tapes-session-name': 'caf%C3%A9',
        'x-tapes-parent-harness-session-id': 'parent-1',
        'x-tapes-parent-harness-id': 'codex',
        'x-tapes-harness-metadata': b64({ entrypoint: 'sdk-cli' }),
      },
      rejected,
    )
    expect(envelope).toEqual({
      harnessId: 'claude',
      harnessSessionId: 'ac9b5a71-50d4-47c2-b771-4d5c3e96d899',
      harnessVersion: '2.1.219',
      cwd: '/private/tmp/run one',
      name: 'café',
      parentHarnessSessionId: 'parent-1',
      parentHarnessId: 'codex',
      metadata: { entrypoint: 'sdk-cli' },
    })
    expect(rejected).toEqual([])
  })

  it('rejects control characters, raw or percent-encoded, and reports them', () => {
    const rejected: string[] = []
    const envelope = readTapesHeaders(
      {
        'x-tapes-cwd': '/tmp/%1B[31mred',
        'x-tapes-session-name': 'a\u0007b',
        'x-tapes-harness-version': '1\u00852',
      },
      rejected,
    )
    expect([envelope.cwd, envelope.name, envelope.harnessVersion]).toEqual([null, null, null])
    expect(rejected).toEqual([
      'header:x-tapes-harness-version:control_characters',
      'header:x-tapes-cwd:control_characters',
      'header:x-tapes-session-name:control_characters',
    ])
  })

  it('treats empty headers as absent', () => {
    const rejected: string[] = []
    const envelope = readTapesHeaders(
      { 'x-tapes-parent-harness-session-id': '', 'x-tapes-harness-metadata': '' },
      rejected,
    )
    expect(envelope.parentHarnessSessionId).toBeNull()
    expect(envelope.metadata).toBeNull()
    expect(rejected).toEqual([])
  })

  it('rejects over-long and unsafe ids and harness ids', () => {
    const rejected: string[] = []
    const envelope = readTapesHeaders(
      {
        'x-tapes-harness-session-id': 'x'.repeat(257),
        'x-tapes-harness-id': 'claude code',
        'x-tapes-parent-harness-session-id': 'a;b',
      },
      rejected,
    )
    expect(envelope.harnessSessionId).toBeNull()
    expect(envelope.harnessId).toBeNull()
    expect(rejected).toEqual([
      'header:x-tapes-harness-id:invalid_harness_id',
      'header:x-tapes-harness-session-id:too_long',
      'header:x-tapes-parent-harness-session-id:unsafe_characters',
    ])
  })

  it('drops metadata first when the headers exceed the total budget', () => {
    const rejected: string[] = []
    const metadata = b64({ pad: 'x'.repeat(2900) }) // under 4 KiB decoded, ~3.9 KiB encoded: ~8.2 KiB in all
    const envelope = readTapesHeaders(
      {
        'x-tapes-harness-session-id': 's1',
        'x-tapes-harness-metadata': metadata,
        'x-tapes-cwd': `/${'d'.repeat(4000)}`,
        'x-tapes-session-name': 'n'.repeat(250),
      },
      rejected,
    )
    expect(envelope.metadata).toBeNull()
    expect(envelope.harnessSessionId).toBe('s1')
    expect(envelope.cwd).toHaveLength(4001)
    expect(rejected).toEqual(['header:x-tapes-harness-metadata:over_total_budget'])
  })

  it('ignores the whole envelope when it is over budget even without metadata', () => {
    const rejected: string[] = []
    const envelope = readTapesHeaders(
      { 'x-tapes-harness-session-id': 's1', 'x-tapes-cwd': `/${'d'.repeat(TAPES_HEADER_BUDGET_BYTES)}` },
      rejected,
    )
    expect(envelope.harnessSessionId).toBeNull()
    expect(envelope.cwd).toBeNull()
    expect(rejected).toEqual(['header:x-tapes-*:over_total_budget'])
  })
})
