import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { parseResponse } from '../../src/providers/index.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import { sseBody } from './helpers.js'

/**
 * An OpenAI chat SSE stream compressed once with `zstd -19` (the CLI; fzstd only decompresses):
 * one "zstd ok" delta with finish_reason stop, a usage chunk (7 prompt, 2 completion), [DONE].
 */
const ZSTD_SSE_BASE64 =
  'KLUv/STMTQQAsokdGXBvDuTZFKUalaWhrPV7JT6H/ZnlRcCEIwIAsBxIYigZITn2Ru+t0E+5EDfTk8TUdEy/jpvV2wIA2ZJ94p7XS55uKeaZUcbmLTvEAex5Xd9yW/I7pncdLXwT9NZCGY8p+rkv8vPeLl0fLWTp7cO7HsZjgbp2MAUAVSg4Z1GmAXzEA9i3w2at+F53'

describe('content-encoded response bodies', () => {
  it('parses a zstd-compressed SSE body after decodeBody', () => {
    const decoded = decodeBody([Buffer.from(ZSTD_SSE_BASE64, 'base64')], 'zstd')
    expect(decoded.error).toBeUndefined()
    const r = parseResponse({
      api: 'openai.chat',
      status: 200,
      contentType: 'text/event-stream',
      body: decoded.bytes,
      request: null,
    })
    expect(r.message?.content).toEqual([{ type: 'text', text: 'zstd ok' }])
    expect(r).toMatchObject({
      stopReason: 'stop',
      complete: true,
      usage: { inputTokens: 7, outputTokens: 2, status: 'reported' },
    })
  })

  it('parses a gzip-compressed Anthropic SSE body split into several captured chunks', () => {
    const plain = sseBody([
      [
        'message_start',
        {
          type: 'message_start',
          message: { id: 'msg_g', model: 'claude', usage: { input_tokens: 4, output_tokens: 1 } },
        },
      ],
      [
        'content_block_start',
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      ],
      [
        'content_block_delta',
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'gzip ok' } },
      ],
      [
        'message_delta',
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } },
      ],
      ['message_stop', { type: 'message_stop' }],
    ])
    const gz = gzipSync(plain)
    const chunks = [gz.subarray(0, 7), gz.subarray(7, 40), gz.subarray(40)]
    const decoded = decodeBody(chunks, 'gzip')
    expect(decoded.bytes.equals(plain)).toBe(true)
    const r = parseResponse({
      api: 'anthropic.messages',
      status: 200,
      contentType: 'text/event-stream',
      body: decoded.bytes,
      request: null,
    })
    expect(r.message?.content).toEqual([{ type: 'text', text: 'gzip ok' }])
    expect(r).toMatchObject({
      providerResponseId: 'msg_g',
      complete: true,
      usage: { inputTokens: 4, outputTokens: 3 },
    })
  })
})
