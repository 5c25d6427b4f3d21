import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLogger, silentLogger } from '../../src/log.js'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import { DROP_REASONS } from '../../src/recorder/drop-reasons.js'
import { createRecorder, type Recorder, type RecorderDeps } from '../../src/recorder/recorder.js'
import type { TurnBuildOptions } from '../../src/recorder/turn-builder.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import type { Turn } from '../../src/session/turn.js'
import { openStore, type Store } from '../../src/store/index.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { body, exchange, openaiRequest } from './exchanges.js'
import { metricValue, waitFor } from './wait.js'

const BUILD: TurnBuildOptions = {
  envelope: DEFAULT_ENVELOPE_OPTIONS,
  prices: DEFAULT_PRICES,
  storeContent: true,
}

let pg: TestPostgres
let store: Store
let dataDir: string
const recorders: Recorder[] = []

beforeAll(async () => {
  pg = await startTestPostgres()
  store = await openStore({ databaseUrl: pg.url, dataDir: os.tmpdir() })
})
afterAll(async () => {
  await store?.close()
  await pg?.stop()
})
afterEach(async () => {
  for (const r of recorders.splice(0)) await r.drain(0)
  rmSync(dataDir, { recursive: true, force: true })
})

function recorder(overrides: Partial<RecorderDeps> = {}): { recorder: Recorder; registry: Registry } {
  const registry = new Registry()
  const r = createRecorder({
    store,
    buildOptions: BUILD,
    parseWorkers: 0,
    writers: 2,
    queueSize: 100,
    dataDir,
    logger: silentLogger,
    registry,
    retry: { baseMs: 5, maxMs: 20 },
    ...overrides,
  })
  recorders.push(r)
  return { recorder: r, registry }
}

/** Distinct conversations, so each exchange is its own turn (and session). */
function exchanges(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) =>
    exchange({ requestId: `${prefix}-${i}`, requestBody: body(openaiRequest(`${prefix} question ${i}`)) }),
  )
}

async function rowsFor(prefix: string): Promise<Map<string, number>> {
  const { rows } = await store.driver.query<{ request_id: string; n: string }>(
    'SELECT request_id, count(*) AS n FROM turns WHERE request_id LIKE $1 GROUP BY request_id',
    [`${prefix}-%`],
  )
  return new Map(rows.map((r) => [r.request_id, Number(r.n)]))
}

describe('recorder on real Postgres', () => {
  it('commits consumed exchanges, counts drop reasons, and logs no content', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
    const logs: string[] = []
    const { recorder: r, registry } = recorder({ logger: createLogger('debug', (line) => logs.push(line)) })
    await r.start()
    // Every drop reason is a series from the start, at 0.
    const series = (await registry.getSingleMetric('sessiontap_recorder_dropped_total')!.get()).values
    expect(series.map((v) => v.labels.reason).sort()).toEqual([...DROP_REASONS].sort())
    expect(series.every((v) => v.value === 0)).toBe(true)
    for (const e of exchanges('plain', 5)) r.consume(e)
    r.consume(exchange({ requestId: 'plain-files', path: '/v1/files' }))
    r.consume(exchange({ requestId: 'plain-bad', requestBody: body(Buffer.from('secret words, not JSON')) }))
    await waitFor(
      '5 commits',
      async () => (await metricValue(registry, 'sessiontap_recorder_committed_total')) === 5,
    )
    await waitFor(
      '2 drops',
      async () => (await metricValue(registry, 'sessiontap_recorder_dropped_total')) === 2,
    )
    expect([...(await rowsFor('plain')).values()]).toEqual([1, 1, 1, 1, 1])
    expect(await metricValue(registry, 'sessiontap_recorder_dropped_total', { reason: 'not_llm_api' })).toBe(
      1,
    )
    expect(
      await metricValue(registry, 'sessiontap_recorder_dropped_total', { reason: 'request_parse' }),
    ).toBe(1)
    expect(await metricValue(registry, 'sessiontap_recorder_turns_built_total')).toBe(5)
    // Every request item went through a parse worker's node cache.
    expect(await metricValue(registry, 'sessiontap_node_cache_total', { outcome: 'miss' })).toBeGreaterThan(0)
    expect(await r.drain(1000)).toEqual({ committed: 0, spooled: 0 })
    const logged = logs.join('')
    // A malformed body is visible at warn level (rate-limited); a path that is no LLM API only at debug.
    const entries = logs.map((line) => JSON.parse(line) as { level: string; reason?: string })
    expect(entries.find((e) => e.reason === 'request_parse')?.level).toBe('warn')
    expect(entries.find((e) => e.reason === 'not_llm_api')?.level).toBe('debug')
    expect(logged).not.toMatch(/secret|question|Hello|terse/)
  })

  it('spools queue overflow and what is left at the drain deadline; start() replays it exactly once', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
    let open!: () => void
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const gated: Store = { ...store, ingest: async (turn) => gate.then(() => store.ingest(turn)) }
    const first = recorder({ store: gated, writers: 1, queueSize: 2 })
    await first.recorder.start()
    for (const e of exchanges('spool', 10)) first.recorder.consume(e)
    await waitFor(
      '10 turns built',
      async () => (await metricValue(first.registry, 'sessiontap_recorder_turns_built_total')) === 10,
    )
    // One turn is held by the writer, two wait in the queue, seven overflowed (counted once their
    // spool write is done, which can trail the build under load).
    const overflowed = () =>
      metricValue(first.registry, 'sessiontap_recorder_spooled_total', { reason: 'overflow' })
    await waitFor('7 overflowed turns spooled', async () => (await overflowed()) >= 7)
    expect(await overflowed()).toBe(7)
    expect(await first.recorder.drain(50)).toEqual({ committed: 0, spooled: 3 })
    const spoolLines = readFileSync(path.join(dataDir, 'spool.jsonl'), 'utf8').trim().split('\n')
    expect(spoolLines).toHaveLength(10)
    // The writer's ingest now completes after all: that turn is both committed and spooled.
    open()
    await waitFor('the held turn', async () => (await rowsFor('spool')).size === 1)

    const second = recorder()
    await second.recorder.start()
    await waitFor('replay', async () => (await rowsFor('spool')).size === 10)
    await waitFor('spool file removed', () =>
      readdirSync(dataDir).every((f) => !f.startsWith('spool.replay-')),
    )
    expect([...(await rowsFor('spool')).values()].every((n) => n === 1)).toBe(true)
    expect(await metricValue(second.registry, 'sessiontap_recorder_replayed_total')).toBe(10)
    expect(await metricValue(second.registry, 'sessiontap_recorder_committed_total')).toBe(9)
    expect(await metricValue(second.registry, 'sessiontap_recorder_already_committed_total')).toBe(1)
    await second.recorder.drain(1000)

    const third = recorder()
    await third.recorder.start()
    await third.recorder.drain(1000)
    expect(await metricValue(third.registry, 'sessiontap_recorder_replayed_total')).toBe(0)
    expect((await rowsFor('spool')).size).toBe(10)
  })

  it('replays a spool file claimed by a run that crashed mid-replay, and dead-letters a torn line', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
    const gated: Store = { ...store, ingest: () => new Promise(() => {}) }
    const first = recorder({ store: gated, writers: 1, queueSize: 1 })
    for (const e of exchanges('torn', 3)) first.recorder.consume(e)
    await first.recorder.drain(50)
    // A crash mid-replay leaves a claimed file behind; a crash mid-append leaves a torn last line.
    const claimed = path.join(dataDir, 'spool.replay-00000000-0000-7000-8000-000000000000.jsonl')
    const lines = readFileSync(path.join(dataDir, 'spool.jsonl'), 'utf8')
    rmSync(path.join(dataDir, 'spool.jsonl'))
    writeFileSync(claimed, `${lines}{"v":1,"reason":"ov`)

    const second = recorder()
    await second.recorder.start()
    await waitFor('replay', async () => (await rowsFor('torn')).size === 3)
    await waitFor('claimed file removed', () => !readdirSync(dataDir).includes(path.basename(claimed)))
    const dead = readFileSync(path.join(dataDir, 'dead-letter.jsonl'), 'utf8').trim().split('\n')
    expect(dead).toHaveLength(1)
    expect(JSON.parse(dead[0]!)).toMatchObject({ line: '{"v":1,"reason":"ov' })
  })

  it('dead-letters a turn the database rejects for good, with the reason', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
    // A real permanent rejection: Postgres refuses a non-UUID org id (22P02).
    const broken: Store = {
      ...store,
      ingest: (turn) => store.ingest({ ...turn, envelope: { ...turn.envelope, orgId: 'not-a-uuid' } }),
    }
    const { recorder: r, registry } = recorder({ store: broken })
    await r.start()
    r.consume(exchange({ requestId: 'dead-1' }))
    await waitFor(
      'dead letter',
      async () => (await metricValue(registry, 'sessiontap_recorder_dead_lettered_total')) === 1,
    )
    await r.drain(1000)
    const [line, ...rest] = readFileSync(path.join(dataDir, 'dead-letter.jsonl'), 'utf8').trim().split('\n')
    expect(rest).toEqual([])
    const record = JSON.parse(line!)
    expect(record).toMatchObject({ requestId: 'dead-1', code: '22P02', turn: { requestId: 'dead-1' } })
    expect(record.error).toMatch(/uuid/)
    expect((await rowsFor('dead')).size).toBe(0)
    expect(await metricValue(registry, 'sessiontap_recorder_retries_total')).toBe(0)
  })

  it('commits queued turns in batches; a turn refused for good is dead-lettered alone', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
    // Holds the first commit until the rest are queued, so the one writer then takes them as a batch.
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const breakIfBad = (turn: Turn): Turn =>
      turn.requestId === 'batch-bad' ? { ...turn, envelope: { ...turn.envelope, orgId: 'not-a-uuid' } } : turn
    const batchSizes: number[] = []
    const gated: Store = {
      ...store,
      ingest: async (turn, encodedNodes) => {
        if (turn.requestId === 'batch-gate') await held
        return store.ingest(breakIfBad(turn), encodedNodes)
      },
      ingestBatch: (items) => {
        batchSizes.push(items.length)
        return store.ingestBatch(items.map((item) => ({ ...item, turn: breakIfBad(item.turn) })))
      },
    }
    const { recorder: r, registry } = recorder({ store: gated, writers: 1, commitBatch: 4 })
    await r.start()
    r.consume(exchange({ requestId: 'batch-gate' }))
    await waitFor(
      'gate taken',
      async () => (await metricValue(registry, 'sessiontap_recorder_parse_pending')) === 0,
    )
    const queued = exchanges('batch', 6)
    queued.splice(2, 0, exchange({ requestId: 'batch-bad' }))
    for (const e of queued) r.consume(e)
    await waitFor(
      '7 queued',
      async () => (await metricValue(registry, 'sessiontap_recorder_queue_depth')) === 7,
    )
    release()
    await waitFor(
      'commits',
      async () => (await metricValue(registry, 'sessiontap_recorder_committed_total')) === 7,
    )
    await r.drain(1000)
    // The batch of 4 with the bad turn fell back to single commits; the last 3 went as one batch.
    expect(batchSizes).toEqual([4, 3])
    expect(await metricValue(registry, 'sessiontap_recorder_dead_lettered_total')).toBe(1)
    const dead = readFileSync(path.join(dataDir, 'dead-letter.jsonl'), 'utf8').trim().split('\n')
    expect(dead.map((line) => JSON.parse(line).requestId)).toEqual(['batch-bad'])
    const rows = await rowsFor('batch')
    expect([...rows.keys()].sort()).toEqual([
      'batch-0',
      'batch-1',
      'batch-2',
      'batch-3',
      'batch-4',
      'batch-5',
      'batch-gate',
    ])
    expect([...rows.values()].every((n) => n === 1)).toBe(true)
    expect(await metricValue(registry, 'sessiontap_recorder_retries_total')).toBe(0)
  })

  it('drains an idle recorder at once instead of waiting out the deadline', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
    const { recorder: r } = recorder({ parseWorkers: 1 })
    await r.start()
    const started = performance.now()
    expect(await r.drain(60_000)).toEqual({ committed: 0, spooled: 0 })
    // Far under the 60 s deadline: nothing was pending, so nothing is waited for.
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('retries retryable errors and commits the turn once', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
    let failures = 3
    const flaky: Store = {
      ...store,
      ingest: (turn) => {
        if (failures-- > 0)
          return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
        return store.ingest(turn)
      },
    }
    const { recorder: r, registry } = recorder({ store: flaky, writers: 1 })
    await r.start()
    r.consume(exchange({ requestId: 'flaky-1' }))
    await waitFor(
      'commit',
      async () => (await metricValue(registry, 'sessiontap_recorder_committed_total')) === 1,
    )
    expect(await metricValue(registry, 'sessiontap_recorder_retries_total')).toBe(3)
    expect(await rowsFor('flaky')).toEqual(new Map([['flaky-1', 1]]))
  })

  describe('with a parse worker (the default)', () => {
    async function storedNodes(prefix: string) {
      const { rows } = await store.driver.query<{ role: string; content: unknown }>(
        `SELECT n.role, n.content FROM nodes n
         WHERE (n.org_id, n.hash) IN (
           SELECT t.org_id, h FROM turns t, LATERAL (VALUES (t.request_leaf_hash), (t.response_hash)) v(h)
           WHERE t.request_id LIKE $1)`,
        [`${prefix}-%`],
      )
      return rows
    }

    it('parses a big body on a worker of its own: small exchanges behind it do not wait for it', async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
      const order: string[] = []
      // One writer: turns commit in the order they were built.
      const { recorder: r } = recorder({
        parseWorkers: 1,
        writers: 1,
        onCommitted: (turn) => order.push(turn.requestId),
      })
      await r.start()
      const big = exchange({
        requestId: 'lane-big',
        requestBody: body(openaiRequest('x'.repeat(30_000_000))),
      })
      r.consume(big)
      for (const e of exchanges('lane-small', 5)) r.consume(e)
      await waitFor('all six commits', async () => order.length === 6, 60_000)
      // With one worker for everything the small ones would queue behind the big one.
      expect(order.indexOf('lane-big')).toBe(5)
    })

    it('stores node content in single commits and in group commits', async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
      const { recorder: r, registry } = recorder({ parseWorkers: 1, writers: 1, commitBatch: 16 })
      await r.start()
      // One alone: a single-turn commit.
      r.consume(exchanges('content1', 1)[0]!)
      await waitFor('the single commit', async () => (await rowsFor('content1')).size === 1)
      // Many at once: the writer finds them queued and commits them in batches.
      for (const e of exchanges('contentN', 40)) r.consume(e)
      await waitFor('40 commits', async () => (await rowsFor('contentN')).size === 40)
      const histogram = await registry.getSingleMetricAsString('sessiontap_recorder_commit_seconds')
      const transactions = Number(/_count (\d+)/.exec(histogram)?.[1])
      expect(transactions).toBeGreaterThan(1)
      expect(transactions).toBeLessThan(41)

      for (const prefix of ['content1', 'contentN']) {
        const nodes = await storedNodes(prefix)
        expect(nodes.length).toBeGreaterThan(0)
        expect(nodes.filter((n) => n.content === null)).toEqual([])
      }
      const single = JSON.stringify(await storedNodes('content1'))
      expect(single).toContain('content1 question 0')
      expect(single).toContain('Hello')
      const batched = JSON.stringify(await storedNodes('contentN'))
      expect(batched).toContain('contentN question 39')
    })

    it('calls onCommitted for every settled turn: loop detections are seen in single and group commits', async () => {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-rec-'))
      const seen: Array<{ requestId: string; inserted: boolean; loop: boolean }> = []
      const { recorder: r } = recorder({
        parseWorkers: 1,
        writers: 1,
        commitBatch: 16,
        onCommitted: (turn, result) =>
          seen.push({ requestId: turn.requestId, inserted: result.inserted, loop: !!result.loopDetected }),
      })
      await r.start()
      // The same request three times is a loop (one synthetic session, one loop hash).
      const same = (id: string, text: string) =>
        exchange({ requestId: id, requestBody: body(openaiRequest(text)) })
      for (const id of ['loopA-0', 'loopA-1', 'loopA-2']) {
        r.consume(same(id, 'single-commit loop'))
        await waitFor(id, () => seen.some((s) => s.requestId === id))
      }
      // Queued together: most of these commit in one batch.
      const batch = ['loopB-0', 'loopB-1', 'loopB-2', 'loopB-3']
      for (const id of batch) r.consume(same(id, 'group-commit loop'))
      await waitFor('the batch', () => batch.every((id) => seen.some((s) => s.requestId === id)))
      // A repeat of a committed request reaches the hook too, as not inserted.
      r.consume(same('loopB-0', 'group-commit loop'))
      await waitFor('the repeat', () => seen.filter((s) => s.requestId === 'loopB-0').length === 2)

      expect(seen.filter((s) => s.loop).map((s) => s.requestId)).toEqual(['loopA-2', 'loopB-2'])
      expect(seen.filter((s) => !s.inserted).map((s) => s.requestId)).toEqual(['loopB-0'])
    })
  })
})
