import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import { providerHostsSchema } from '../../src/providers/hosts.js'
import { createParsePool, type ParsePool } from '../../src/recorder/parse-pool.js'
import { buildTurn, type TurnBuildOptions } from '../../src/recorder/turn-builder.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import { decodeNodes } from '../../src/store/node-records.js'
import { anthropicExchange, body, chunked, exchange, OPENAI_STREAM } from './exchanges.js'

const OPTIONS: TurnBuildOptions = {
  envelope: DEFAULT_ENVELOPE_OPTIONS,
  prices: DEFAULT_PRICES,
  storeContent: true,
}

describe('parse pool', () => {
  let pool: ParsePool | undefined
  afterEach(async () => {
    await pool?.close()
    pool = undefined
  })

  it('builds in a worker exactly the turn buildTurn builds inline', async () => {
    pool = createParsePool({ size: 1, buildOptions: OPTIONS })
    // Chunks that are views into one larger buffer, as grpc hands them over.
    const shared = Buffer.concat([Buffer.from('xxxx'), OPENAI_STREAM])
    const views = chunked(shared.subarray(4), 50)
    const inputs = [exchange({ responseBody: views }), anthropicExchange(), exchange({ path: '/v1/files' })]
    const results = await Promise.all(inputs.map((e) => pool!.run(e)))
    // The nodes' content comes back encoded beside the turn (node-records.ts), not inside it.
    const rejoined = results.map((r) => {
      if (!r.ok || !('encodedNodes' in r)) return r
      const { encodedNodes, ...rest } = r
      expect(r.turn.nodes.every((n) => n.content === null)).toBe(true)
      return { ...rest, turn: { ...r.turn, nodes: decodeNodes(encodedNodes!) } }
    })
    expect(rejoined).toEqual(inputs.map((e) => buildTurn(e, OPTIONS)))
    expect(results[0]?.ok && 'encodedNodes' in results[0]).toBe(true)
    expect(results[0]?.ok && results[0].turn.startedAt instanceof Date).toBe(true)
    expect(pool.pending).toBe(0)
  })

  it('hands the configured provider hosts to its workers', async () => {
    const providerHosts = providerHostsSchema.parse('llm.internal:8000=vllm')
    pool = createParsePool({ size: 1, buildOptions: { ...OPTIONS, providerHosts } })
    const results = await Promise.all(
      ['llm.internal:8000', 'api.groq.com', 'llm.internal:9000'].map((authority) =>
        pool!.run(exchange({ authority })),
      ),
    )
    expect(results.map((r) => r.ok && r.turn.provider)).toEqual(['vllm', 'groq', 'openai'])
  })

  it('runs inline with size 0', async () => {
    pool = createParsePool({ size: 0, buildOptions: OPTIONS })
    const result = await pool.run(anthropicExchange())
    expect(result).toEqual(buildTurn(anthropicExchange(), OPTIONS))
  })

  it('replaces a worker that runs out of memory and drops only the exchange it held', async () => {
    const failures: string[] = []
    pool = createParsePool({
      size: 1,
      maxInFlightPerWorker: 1,
      maxWorkerHeapMb: 48,
      buildOptions: OPTIONS,
      onWorkerFailure: (reason) => failures.push(reason),
    })
    // ~20 MB of JSON that parses into far more heap than the worker may use.
    const messages = Array.from({ length: 400_000 }, (_, i) => ({ role: 'user', content: `m${i}` }))
    const huge = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages }))
    const results = await Promise.all([
      pool.run(exchange({ requestBody: body(huge) })),
      pool.run(exchange({ requestId: 'after' })),
    ])
    expect(results[0]).toMatchObject({ ok: false, reason: 'worker_crashed' })
    expect(results[1]).toMatchObject({ ok: true, turn: { requestId: 'after' } })
    expect(failures).toEqual(['worker_crashed'])
  })

  it('replaces a worker that holds a job past the timeout', async () => {
    const failures: string[] = []
    // The timer starts when the job is posted, before the worker has even booted: 1 ms always expires.
    pool = createParsePool({
      size: 1,
      jobTimeoutMs: 1,
      buildOptions: OPTIONS,
      onWorkerFailure: (reason) => failures.push(reason),
    })
    expect(await pool.run(exchange())).toMatchObject({ ok: false, reason: 'parse_timeout' })
    // The replacement takes the next job (and times out too, which proves it was posted to).
    expect(await pool.run(exchange())).toMatchObject({ ok: false, reason: 'parse_timeout' })
    expect(failures).toEqual(['parse_timeout', 'parse_timeout'])
    expect(pool.pending).toBe(0)
  })

  it('drops with parse_backlog when the waiting bytes exceed the budget', async () => {
    pool = createParsePool({ size: 1, maxInFlightPerWorker: 1, maxPendingBytes: 1, buildOptions: OPTIONS })
    const results = await Promise.all([pool.run(exchange()), pool.run(exchange()), pool.run(exchange())])
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['ok', 'ok', 'parse_backlog'])
  })

  it('answers pool_closed after close', async () => {
    pool = createParsePool({ size: 1, buildOptions: OPTIONS })
    await pool.close()
    expect(await pool.run(exchange())).toMatchObject({ ok: false, reason: 'pool_closed' })
  })
})
