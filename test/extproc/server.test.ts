import * as grpc from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { filterForMode } from '../../src/cli/replay.js'
import { runExchange } from '../../src/emulator/emulator.js'
import { emptyStats } from '../../src/emulator/types.js'
import { loadProtos } from '../../src/extproc/proto.js'
import { startTestServer } from '../helpers/extproc.js'
import { headerMap, openRawStream } from '../helpers/raw-stream.js'

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
      {
        request: { method: 'GET', path: '/', authority: 'a', headers: [], body: Buffer.alloc(0) },
        response: { status: 200, headers: [], body: Buffer.alloc(0) },
      },
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
})
