import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetGuardAdjustable } from '../../src/extproc/reset-guard.js'
import { startTestServer, type TestServer } from '../helpers/extproc.js'
import { headerMap, openRawStream } from '../helpers/raw-stream.js'

const STREAMS = 3000
const adjustable = resetGuardAdjustable()
if (!adjustable) {
  console.warn(
    `Node ${process.versions.node} cannot lift the HTTP/2 reset guard (22.10+ can): the one-connection test is skipped; envoy/*.yaml caps the ext_proc cluster at 500 streams per connection instead`,
  )
}

/** Opens STREAMS streams, 20 at a time, each answered once and then reset by the client, as Envoy does. */
async function resetStreams(t: TestServer): Promise<number> {
  let answered = 0
  const one = async () => {
    const raw = openRawStream(t.client)
    raw.call.write({ request_headers: { headers: headerMap([[':method', 'POST']]), end_of_stream: true } })
    await raw.waitForReplies(1, 5000).then(
      () => answered++,
      () => {},
    )
    raw.call.cancel()
  }
  for (let i = 0; i < STREAMS; i += 20) await Promise.all(Array.from({ length: 20 }, one))
  return answered
}

async function connections(t: TestServer): Promise<number> {
  return (await t.metrics.connections.get()).values[0]?.value ?? 0
}

describe('the HTTP/2 stream-reset guard', () => {
  let t: TestServer
  beforeAll(async () => {
    t = await startTestServer({ consumer: { consume() {} } })
  })
  afterAll(() => t.close())

  it.skipIf(!adjustable)(`keeps one connection through ${STREAMS} streams reset by the client`, async () => {
    expect(await resetStreams(t)).toBe(STREAMS)
    expect(await connections(t)).toBe(1)
  })

  it.skipIf(adjustable)(
    `without the options, closes the connection within ${STREAMS} resets (why envoy/*.yaml caps streams per connection)`,
    async () => {
      await resetStreams(t)
      expect(await connections(t)).toBeGreaterThan(1)
    },
  )

  it('knows which Node versions take the options', () => {
    expect(['20.19.0', '22.9.0', '21.7.3'].map((v) => resetGuardAdjustable(v))).toEqual([false, false, false])
    expect(['22.10.0', '22.12.0', '23.0.0', '24.1.0'].map((v) => resetGuardAdjustable(v))).toEqual([
      true,
      true,
      true,
      true,
    ])
  })
})
