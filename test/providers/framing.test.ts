import { describe, expect, it } from 'vitest'
import { JsonArrayDecoder } from '../../src/providers/framing/json-array.js'
import { NdjsonDecoder } from '../../src/providers/framing/ndjson.js'
import { SseDecoder, type SseEvent } from '../../src/providers/framing/sse.js'

const SSE_STREAM = [
  ': keep-alive comment',
  'event: message_start',
  'data: {"type":"message_start","text":"héllo 👋 世界"}',
  '',
  'id: 7',
  'data: first line',
  'data:second line without space',
  'data',
  '',
  'retry: 1000',
  'event: ping',
  'unknown: field',
  'data: {"type": "ping"}',
  '',
  'event: no-data-is-not-dispatched',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n')

function decodeSse(chunks: Uint8Array[]): SseEvent[] {
  const events: SseEvent[] = []
  const decoder = new SseDecoder((e) => events.push(e))
  for (const chunk of chunks) decoder.push(chunk)
  decoder.end()
  return events
}

function splitAt(bytes: Buffer, at: number): Uint8Array[] {
  return [bytes.subarray(0, at), bytes.subarray(at)]
}

function oneByteChunks(bytes: Buffer): Uint8Array[] {
  return [...bytes].map((b) => Uint8Array.of(b))
}

const EXPECTED: SseEvent[] = [
  { event: 'message_start', data: '{"type":"message_start","text":"héllo 👋 世界"}', id: undefined },
  { event: undefined, data: 'first line\nsecond line without space\n', id: '7' },
  { event: 'ping', data: '{"type": "ping"}', id: '7' },
  { event: undefined, data: '[DONE]', id: '7' },
]

describe('SseDecoder', () => {
  const variants: Array<[string, Buffer]> = [
    ['LF', Buffer.from(SSE_STREAM, 'utf8')],
    ['CRLF', Buffer.from(SSE_STREAM.replaceAll('\n', '\r\n'), 'utf8')],
    ['CR', Buffer.from(SSE_STREAM.replaceAll('\n', '\r'), 'utf8')],
  ]

  for (const [name, bytes] of variants) {
    it(`decodes the ${name} stream into the expected events`, () => {
      expect(decodeSse([bytes])).toEqual(EXPECTED)
    })

    it(`yields identical events for a ${name} stream split at every byte position`, () => {
      for (let at = 0; at <= bytes.length; at++) {
        expect(decodeSse(splitAt(bytes, at)), `split at ${at}`).toEqual(EXPECTED)
      }
    })

    it(`yields identical events for a ${name} stream fed one byte at a time`, () => {
      expect(decodeSse(oneByteChunks(bytes))).toEqual(EXPECTED)
    })
  }

  it('handles empty chunks anywhere', () => {
    const bytes = Buffer.from(SSE_STREAM, 'utf8')
    const chunks = oneByteChunks(bytes).flatMap((c) => [new Uint8Array(0), c])
    expect(decodeSse(chunks)).toEqual(EXPECTED)
  })

  it('dispatches a last event that lacks its blank line at end()', () => {
    expect(decodeSse([Buffer.from('event: x\ndata: {"a":1}')])).toEqual([
      { event: 'x', data: '{"a":1}', id: undefined },
    ])
  })

  it('strips a leading byte-order mark', () => {
    expect(decodeSse([Buffer.from('\uFEFFdata: a\n\n', 'utf8')])).toEqual([
      { event: undefined, data: 'a', id: undefined },
    ])
  })
})

function decodeArray(chunks: Uint8Array[]): string[] {
  const elements: string[] = []
  const decoder = new JsonArrayDecoder((text) => elements.push(text))
  for (const chunk of chunks) decoder.push(chunk)
  decoder.end()
  return elements
}

describe('JsonArrayDecoder', () => {
  const ARRAY = '[{"a":"x]}\\"{","b":[1,{"c":"é👋"}]}\r\n,\r\n{"d":2}\n, "str\\"ing", 42 ,[3]]'
  const EXPECTED_ELEMENTS = ['{"a":"x]}\\"{","b":[1,{"c":"é👋"}]}', '{"d":2}', '"str\\"ing"', '42', '[3]']

  it('emits each top-level element of a streamed array', () => {
    expect(decodeArray([Buffer.from(ARRAY)])).toEqual(EXPECTED_ELEMENTS)
    for (const element of EXPECTED_ELEMENTS) expect(() => JSON.parse(element)).not.toThrow()
  })

  it('yields identical elements for the array split at every byte position', () => {
    const bytes = Buffer.from(ARRAY)
    for (let at = 0; at <= bytes.length; at++)
      expect(decodeArray(splitAt(bytes, at)), `split at ${at}`).toEqual(EXPECTED_ELEMENTS)
    expect(decodeArray(oneByteChunks(bytes))).toEqual(EXPECTED_ELEMENTS)
  })

  it('hands over an unfinished last element at end() so it can be counted as malformed', () => {
    expect(decodeArray([Buffer.from('[{"a":1},{"b":')])).toEqual(['{"a":1}', '{"b":'])
  })

  it('reads a body that is not an array as a sequence of values', () => {
    expect(decodeArray([Buffer.from(' {"a":1}{"b":2}')])).toEqual(['{"a":1}', '{"b":2}'])
  })
})

describe('NdjsonDecoder', () => {
  it('emits non-blank lines across any chunking, with LF or CRLF', () => {
    const text = '{"a":"👋"}\r\n\n{"b":2}\n{"c":3}'
    const expected = ['{"a":"👋"}', '{"b":2}', '{"c":3}']
    const bytes = Buffer.from(text)
    for (let at = 0; at <= bytes.length; at++) {
      const lines: string[] = []
      const decoder = new NdjsonDecoder((line) => lines.push(line))
      for (const chunk of splitAt(bytes, at)) decoder.push(chunk)
      decoder.end()
      expect(lines, `split at ${at}`).toEqual(expected)
    }
  })
})
