import * as grpc from '@grpc/grpc-js'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { filterForMode } from '../../src/cli/replay.js'
import { runExchange } from '../../src/emulator/emulator.js'
import { emptyStats, type HttpExchangeSpec } from '../../src/emulator/types.js'
import { createExtProcMetrics } from '../../src/extproc/metrics.js'
import { loadProtos } from '../../src/extproc/proto.js'
import { startExtProcServer } from '../../src/extproc/server.js'
import { silentLogger } from '../../src/log.js'
import { startTestServer } from '../helpers/extproc.js'
import { headerMap, openRawStream } from '../helpers/raw-stream.js'

/** The smallest exchange: a GET with no bodies, answered 200. */
const EMPTY_GET: HttpExchangeSpec = {
  request: { method: 'GET', path: '/', authority: 'a', headers: [], body: Buffer.alloc(0) },
  response: { status: 200, headers: [], body: Buffer.alloc(0) },
}

function healthCheck(address: string): Promise<string> {
  const Health = loadProtos().health
  const client = new Health(address, grpc.credentials.createInsecure())
  return new Promise((resolve, reject) => {
    client.Check!({ service: '' }, (err: Error | null, res: { status: string }) => {
      client.close()
      err ? reject(err) : resolve(res.status)
    })
  })
}

describe('ext_proc server lifecycle', () => {
  it('answers grpc.health.v1 Check with SERVING', async () => {
    const t = await startTestServer()
    expect(await healthCheck(t.server.address)).toBe('SERVING')
    await t.close()
  })

  it('on shutdown stops accepting streams, lets an in-flight exchange finish, then reports it done', async () => {
    const t = await startTestServer()
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
    await raw.waitForReplies(1)
    const shutdown = t.server.shutdown(5000)
    // The open exchange still gets its replies while the server drains.
    raw.call.write({ response_headers: { headers: headerMap([[':status', '200']]), end_of_stream: true } })
    expect((await raw.status).code).toBe(grpc.status.OK)
    expect(raw.replies.map((r) => r.response)).toEqual(['request_headers', 'response_headers'])
    expect(await shutdown).toEqual({ forced: false })
    // New streams are refused once it is down.
    const after = await runExchange(
      t.client,
      { ...filterForMode('streamed'), messageTimeoutMs: 1000 },
      EMPTY_GET,
      emptyStats(),
    )
    expect(after.localReply?.status).toBe(500)
    t.client.close()
  })

  it('cancels what is still open at the shutdown deadline', async () => {
    const t = await startTestServer()
    const raw = openRawStream(t.client)
    raw.call.write({
      request_headers: {
        headers: headerMap([
          [':method', 'POST'],
          [':path', '/v1/messages'],
        ]),
      },
    })
    await raw.waitForReplies(1)
    expect(await t.server.shutdown(200)).toEqual({ forced: true })
    expect((await raw.status).code).not.toBe(grpc.status.OK)
    t.client.close()
  })

  it('closes a connection that sends bytes that are not protobuf, counts it, and keeps serving others', async () => {
    const t = await startTestServer()
    // A well-formed exchange open on the same connection: it goes with it (no Envoy sends such bytes).
    const open = openRawStream(t.client)
    open.call.write({ request_headers: { headers: headerMap([[':method', 'POST']]), end_of_stream: true } })
    await open.waitForReplies(1)
    const garbage = t.client.makeBidiStreamRequest(
      '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
      (b: Buffer) => b,
      (b: Buffer) => b,
    )
    garbage.on('error', () => {})
    const status = new Promise<grpc.StatusObject>((resolve) => garbage.on('status', resolve))
    garbage.write(Buffer.from([0xff, 0xff, 0xff, 0xff]))
    expect((await status).code).toBe(grpc.status.UNAVAILABLE)
    expect((await open.status).code).toBe(grpc.status.UNAVAILABLE)
    const counted = await t.metrics.messages.get()
    expect(counted.values.find((v) => v.labels.type === 'undecodable')?.value).toBe(1)
    // The client reconnects; the server is unharmed.
    const after = await runExchange(
      t.client,
      { ...filterForMode('streamed'), messageTimeoutMs: 5000 },
      EMPTY_GET,
      emptyStats(),
    )
    expect(after.violations).toEqual([])
    await t.close()
  })

  it('only drops a well-formed message of a kind it does not know: the connection stays', async () => {
    const t = await startTestServer()
    const open = openRawStream(t.client)
    open.call.write({ request_headers: { headers: headerMap([[':method', 'POST']]), end_of_stream: true } })
    await open.waitForReplies(1)
    const unknown = openRawStream(t.client)
    unknown.call.write({})
    unknown.call.end()
    expect((await unknown.status).code).toBe(grpc.status.OK)
    open.call.write({ response_headers: { headers: headerMap([[':status', '200']]), end_of_stream: true } })
    expect((await open.status).code).toBe(grpc.status.OK)
    const counted = await t.metrics.messages.get()
    expect(counted.values.find((v) => v.labels.type === 'malformed')?.value).toBe(1)
    await t.close()
  })

  it('refuses to start on a port that is taken, saying which address', async () => {
    const t = await startTestServer()
    await expect(
      startExtProcServer(
        { address: t.server.address, captureMaxBytes: 1024, stripHeaderPrefix: undefined },
        { consumer: { consume() {} }, metrics: createExtProcMetrics(new Registry()), logger: silentLogger },
      ),
    ).rejects.toThrow(`cannot listen on ${t.server.address}: listen EADDRINUSE`)
    await t.close()
  })
})
