/**
 * `sessiontap replay` as a newcomer runs it twice: request ids derived from the case, counters read
 * back from /metrics, one line when nothing listens, and progress only on a terminal.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createProgress, progressLine } from '../../src/cli/progress.js'
import { parseRecorderCounters, waitForRecorded } from '../../src/cli/recorded.js'
import { stableRequestId } from '../../src/cli/replay.js'
import { run } from '../../src/cli/run.js'
import type { HttpExchangeSpec } from '../../src/emulator/types.js'
import { freePort } from '../helpers/embedded-postgres.js'

const CASES = path.resolve(import.meta.dirname, '../fixtures/cases')

const spec = (name: string, body: string): HttpExchangeSpec => ({
  name,
  request: { method: 'POST', path: '/v1/messages', authority: 'api', headers: [], body: Buffer.from(body) },
  response: { status: 200, headers: [], body: Buffer.alloc(0) },
})

describe('stable request ids', () => {
  it('are UUID-shaped and the same on every run, distinct per case, body and repetition', () => {
    const id = stableRequestId(spec('a', '{}'), 0)
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(stableRequestId(spec('a', '{}'), 0)).toBe(id)
    const others = [
      stableRequestId(spec('b', '{}'), 0),
      stableRequestId(spec('a', '{ }'), 0),
      stableRequestId(spec('a', '{}'), 1),
    ]
    expect(new Set([id, ...others]).size).toBe(4)
  })
})

describe('recorder counters from /metrics', () => {
  it('sums every label set of a counter and ignores the others', () => {
    const text = [
      '# HELP sessiontap_recorder_committed_total Turns committed',
      'sessiontap_recorder_committed_total 7',
      'sessiontap_recorder_already_committed_total 2',
      'sessiontap_recorder_dropped_total{reason="not_llm"} 1',
      'sessiontap_recorder_dropped_total{reason="shutting_down"} 2',
      'sessiontap_exchanges_dropped_total{reason="too_large"} 1',
      'sessiontap_recorder_committed_totally_different 100',
    ].join('\n')
    expect(parseRecorderCounters(text)).toEqual({ committed: 7, alreadyCommitted: 2, dropped: 4 })
  })
})

describe('waiting for what was recorded', () => {
  /** A /metrics endpoint whose committed counter is `value()` at each scrape. */
  async function metricsServer(value: () => number) {
    const server = http.createServer((_req, res) =>
      res.end(`sessiontap_recorder_committed_total ${value()}\n`),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    return { address: `127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) }
  }
  const zero = { committed: 0, alreadyCommitted: 0, dropped: 0 }

  it('keeps waiting while nothing moved yet (a slow first commit), then counts everything', async () => {
    const started = Date.now()
    const server = await metricsServer(() => (Date.now() - started > 600 ? 3 : 0))
    try {
      const recorded = await waitForRecorded(server.address, zero, 3, { settleMs: 200, pollMs: 20 })
      expect(recorded).toEqual({ newTurns: 3, alreadyRecorded: 0 })
    } finally {
      await server.close()
    }
  })

  it('stops once the counters moved and then stood still for the settle time', async () => {
    const server = await metricsServer(() => 2)
    try {
      const recorded = await waitForRecorded(server.address, zero, 3, { settleMs: 200, pollMs: 20 })
      expect(recorded).toEqual({ newTurns: 2, alreadyRecorded: 0 })
    } finally {
      await server.close()
    }
  })
})

describe('replay without a sidecar', () => {
  it('says in one line that nothing answers at that address, exit 1', async () => {
    const target = `127.0.0.1:${await freePort()}`
    const out: string[] = []
    const err: string[] = []
    const code = await run(
      ['replay', CASES, '--target', target],
      {},
      (s) => out.push(s),
      (s) => err.push(s),
    )
    expect({ code, out }).toEqual({ code: 1, out: [] })
    expect(err).toEqual([
      `sessiontap replay: no sidecar answers at ${target}; start one with \`sessiontap serve\` (npm start) or point --target at it`,
    ])
  })
})

describe('progress', () => {
  it('draws count, rate and ETA on a terminal, at most once per interval, and clears its line', () => {
    const written: string[] = []
    let now = 0
    const progress = createProgress('replay', {
      unit: 'exchanges',
      total: 4,
      stream: { isTTY: true, write: (s: string) => written.push(s) },
      intervalMs: 100,
      now: () => now,
    })
    now = 500
    progress.advance()
    now = 550
    progress.advance() // within the interval: not drawn
    now = 1000
    progress.advance(2) // the last one is always drawn
    progress.done()
    expect(written).toEqual([
      '\r\x1b[2Kreplay 1/4 exchanges (25%)  2.0/s  ETA 2s',
      '\r\x1b[2Kreplay 4/4 exchanges (100%)  4.0/s  ETA 0s',
      '\r\x1b[2K',
    ])
  })

  it('writes nothing when standard error is piped', () => {
    const written: string[] = []
    const progress = createProgress('import', {
      unit: 'bytes',
      total: 10,
      stream: { isTTY: false, write: (s: string) => written.push(s) },
    })
    progress.advance(10)
    progress.phase('verifying')
    progress.done()
    expect(written).toEqual([])
  })

  it('shows bytes in KiB and MiB, and only the count and rate without a total', () => {
    expect(progressLine('import', 3 * 1024 * 1024, 6 * 1024 * 1024, 'bytes', 1000)).toBe(
      'import 3.0 MiB/6.0 MiB (50%)  3.0 MiB/s  ETA 1s',
    )
    expect(progressLine('import', 512 * 1024, 0, 'bytes', 2000)).toBe('import 512.0 KiB  256.0 KiB/s')
    expect(progressLine('replay', 10, 1000, 'exchanges', 1000)).toContain('ETA 1m39s')
  })
})
