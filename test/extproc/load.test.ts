import http2 from 'node:http2'
import v8 from 'node:v8'
import vm from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterForMode } from '../../src/cli/replay.js'
import { codecs } from '../../src/emulator/codec.js'
import { replay } from '../../src/emulator/replay.js'
import type { HttpExchangeSpec } from '../../src/emulator/types.js'
import { startTestServer, type TestServer } from '../helpers/extproc.js'
import { headerMap, openRawStream } from '../helpers/raw-stream.js'

v8.setFlagsFromString('--expose_gc')
const gc = vm.runInNewContext('gc') as () => void

const PROCESS_PATH = '/envoy.service.ext_proc.v3.ExternalProcessor/Process'

/** A request_headers message in gRPC's length-prefixed framing, for a bare HTTP/2 client. */
function framedRequestHeaders(): Buffer {
  const bytes = codecs().encode({ request_headers: { headers: headerMap([[':method', 'POST']]) } })
  const frame = Buffer.alloc(5 + bytes.length)
  frame.writeUInt32BE(bytes.length, 1)
  bytes.copy(frame, 5)
  return frame
}

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const SPEC: HttpExchangeSpec = {
  request: {
    method: 'POST',
    path: '/v1/messages',
    authority: 'api.anthropic.com',
    headers: [['content-type', 'application/json']],
    body: Buffer.from(
      JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'x'.repeat(2000) }] }),
    ),
  },
  response: {
    status: 200,
    headers: [['content-type', 'text/event-stream']],
    body: Buffer.from('event: message_stop\ndata: {"type":"message_stop"}\n\n'.repeat(20)),
  },
}

describe('ext_proc server under load', () => {
  let t: TestServer
  beforeAll(async () => {
    // The consumer drops exchanges at once: this measures the protocol layer's own memory.
    t = await startTestServer({ consumer: { consume() {} } })
  })
  afterAll(() => t.close())

  it('completes 1,000 concurrent streams without error, and memory returns close to its baseline', async () => {
    const cfg = {
      ...filterForMode('streamed'),
      messageTimeoutMs: 30_000,
      chunking: { kind: 'fixed' as const, size: 512 },
    }
    await replay(t.client, cfg, [SPEC], { concurrency: 50, repeat: 50 }) // warm up
    const baseline = heapAfterGc()
    const summary = await replay(t.client, cfg, [SPEC], { concurrency: 1000, repeat: 1000 })
    expect(summary.exchanges).toBe(1000)
    expect(summary.violationSamples).toEqual([])
    expect(summary.stats.streams_failed).toBe(0)
    expect(t.server.activeStreams).toBe(0)
    const after = heapAfterGc()
    // 1,000 exchanges of ~3 KB each held at once would be ~3 MB plus per-stream state; nothing may stay.
    expect(after - baseline).toBeLessThan(16 * 1024 * 1024)
  })

  it('survives 3,000 exchanges on one connection, each ended the way Envoy ends it (half-close, then cancel)', async () => {
    const cfg = { ...filterForMode('buffered'), messageTimeoutMs: 30_000 }
    const summary = await replay(t.client, cfg, [SPEC], { concurrency: 20, repeat: 3000 })
    expect(summary.exchanges).toBe(3000)
    expect(summary.violationSamples).toEqual([])
    expect(summary.stats.streams_failed).toBe(0)
  })

  it('closes its side of every stream reset right after its first message', async () => {
    // HEADERS, DATA and RST_STREAM leave in one write, as when a client disconnects at once. A bare
    // HTTP/2 client, because grpc-js's own cancel() in the same tick never sends the reset (raw-stream.ts).
    const session = http2.connect(`http://${t.server.address}`)
    session.on('error', () => {})
    const frame = framedRequestHeaders()
    const one = () => {
      const stream = session.request({
        ':method': 'POST',
        ':path': PROCESS_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
      })
      stream.on('error', () => {})
      stream.resume()
      const closed = new Promise((resolve) => stream.on('close', resolve))
      stream.write(frame)
      stream.close(http2.constants.NGHTTP2_CANCEL)
      return closed
    }
    // Under the HTTP/2 reset guard's burst, which would close the connection on Node < 22.10.
    for (let i = 0; i < 400; i += 20) await Promise.all(Array.from({ length: 20 }, one))
    session.close()
    expect(await t.activeStreamsSettled()).toBe(0)
  })

  it('holds no stream the test client reset in the tick it opened it', async () => {
    for (let i = 0; i < 400; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, () => {
          const raw = openRawStream(t.client)
          raw.call.write({ request_headers: { headers: headerMap([[':method', 'POST']]) } })
          raw.reset()
          return raw.status
        }),
      )
    }
    expect(await t.activeStreamsSettled()).toBe(0)
  })

  it('keeps serving after a burst of 1,500 clients disconnecting in the middle of a response body', async () => {
    // Each disconnect resets an open stream. Node's HTTP/2 layer (nghttp2's reset rate limit: a burst
    // of about 1,000, then ~33/s) may close the connection after a burst like this; in-flight
    // exchanges on it are lost to capture (never to traffic: Envoy fails open) and Envoy reconnects.
    let lost = 0
    for (let i = 0; i < 1500; i++) {
      const raw = openRawStream(t.client)
      raw.call.write({
        request_headers: {
          headers: headerMap([
            [':method', 'POST'],
            [':path', '/v1/messages'],
          ]),
          end_of_stream: true,
        },
      })
      raw.call.write({ response_headers: { headers: headerMap([[':status', '200']]) } })
      raw.call.write({ response_body: { body: Buffer.from('data: {}\n\n') } })
      await raw.waitForReplies(3, 2000).catch(() => {
        lost++
      })
      raw.call.cancel()
    }
    expect(lost).toBeLessThan(1500)
    const summary = await replay(
      t.client,
      { ...filterForMode('streamed'), messageTimeoutMs: 30_000 },
      [SPEC],
      {
        concurrency: 10,
        repeat: 100,
      },
    )
    expect(summary.violationSamples).toEqual([])
    expect(summary.stats.streams_failed).toBe(0)
  })
})
