/**
 * Shared assertions for playing recorded exchanges through the real server with the emulator: no
 * protocol violations, bodies forwarded byte-identical, and the captured bodies decode to the recorded ones.
 */
import { expect } from 'vitest'
import type { ExchangeCase } from '../../src/emulator/cases.js'
import { replay } from '../../src/emulator/replay.js'
import type { EmulatedExchange, FilterConfig } from '../../src/emulator/types.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import type { TestServer } from '../helpers/extproc.js'

export async function assertRoundTrip(
  server: TestServer,
  cfg: FilterConfig,
  cases: ExchangeCase[],
): Promise<void> {
  const results = new Map<string, { c: ExchangeCase; r: EmulatedExchange }>()
  const byName = new Map(cases.map((c) => [c.spec.name, c]))
  const before = server.exchanges.length
  const summary = await replay(
    server.client,
    cfg,
    cases.map((c) => c.spec),
    {
      concurrency: 4,
      repeat: 1,
      onExchange: (spec, r) => results.set(r.requestId, { c: byName.get(spec.name)!, r }),
    },
  )
  expect(summary.violationSamples).toEqual([])
  expect(summary.localReplies).toBe(0)
  expect(summary.exchanges).toBe(cases.length)

  for (const { c, r } of results.values()) {
    expect(
      r.upstreamRequest.body.equals(c.spec.request.body),
      `${c.name}: request body forwarded unchanged`,
    ).toBe(true)
    expect(
      r.downstreamResponse?.body.equals(c.spec.response.body),
      `${c.name}: response body forwarded unchanged`,
    ).toBe(true)
  }

  const captured = await server.waitForExchanges(before + cases.length)
  for (const exchange of captured.slice(before)) {
    const entry = results.get(exchange.requestId)
    expect(entry, `exchange ${exchange.requestId} was played`).toBeDefined()
    const { c } = entry!
    expect(exchange.ending).toBe('complete')
    expect(exchange.request.method).toBe(c.spec.request.method)
    expect(exchange.response?.status).toBe(c.spec.response.status)
    if (cfg.requestBodyMode === 'NONE') {
      expect(exchange.request.body.stopped).toBe('body_not_sent')
      continue
    }
    const reqEncoding = exchange.request.headers['content-encoding']
    expect(decodeBody(exchange.request.body.chunks, reqEncoding).bytes.equals(c.spec.request.body)).toBe(true)
    const expected = decodeBody([c.spec.response.body], c.recorded.contentEncoding)
    const got = decodeBody(exchange.response!.body.chunks, exchange.response!.body.encoding)
    expect(got.error, `${c.name}: response decodes`).toBe(expected.error)
    expect(got.bytes.equals(expected.bytes), `${c.name}: decoded response equals the recorded one`).toBe(true)
  }
}
