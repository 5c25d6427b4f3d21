/**
 * The recorder: the ExchangeConsumer that turns captured exchanges into committed turns. Exchanges are
 * built off the main thread (parse pool), queued, and committed by N writers that retry while
 * Postgres is away, each taking up to commitBatch queued turns per transaction; what cannot wait in
 * memory goes to a local spool file, replayed later.
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Registry } from 'prom-client'
import type { Exchange, ExchangeConsumer } from '../extproc/exchange.js'
import type { Logger } from '../log.js'
import type { Turn } from '../session/turn.js'
import { classifyStoreError, type IngestResult, type Store } from '../store/index.js'
import { decodeNodes } from '../store/node-records.js'
import { JsonlAppender } from './jsonl-appender.js'
import { createParsePool } from './parse-pool.js'
import type { ParseResult } from './parse-protocol.js'
import { createRecorderMetrics } from './recorder-metrics.js'
import {
  claimSpoolFiles,
  DEAD_LETTER_FILE,
  jsonTurn,
  readSpoolFile,
  removeClaimedFile,
  SPOOL_FILE,
  type SpoolReason,
  spoolRecord,
} from './spool.js'
import type { TurnBuildOptions } from './turn-builder.js'
import { BoundedQueue } from './turn-queue.js'

/** Drop reasons of the recorder itself, besides buildTurn's DROP_REASONS and the pool's POOL_DROP_REASONS. */
export const RECORDER_DROP_REASONS = [
  'shutting_down', // handed over after the drain deadline
  'spool_write_failed', // the spool file could not be written (disk full, permissions)
  'consume_failed', // a bug before the exchange reached the parse pool
] as const

export interface RetryPolicy {
  /** First backoff ceiling; it doubles per attempt up to maxMs, with jitter over its upper half. */
  baseMs: number
  maxMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 100, maxMs: 5000 }
export const DEFAULT_QUEUE_MAX_BYTES = 256 * 1024 * 1024
/** Enough to pay BEGIN/COMMIT once for many turns, few enough that writers rarely wait on each other's sessions. */
export const DEFAULT_COMMIT_BATCH = 16
/** The replay feeder leaves the upper half of the queue to live traffic. */
const REPLAY_SHARE = 0.5

export interface RecorderDeps {
  store: Store
  buildOptions: TurnBuildOptions
  /** Parse worker threads; 0 builds turns on the main thread. */
  parseWorkers: number
  /** Concurrent commit transactions. */
  writers: number
  /**
   * Most turns one writer commits in one transaction (default DEFAULT_COMMIT_BATCH). A writer takes
   * only turns already waiting, so batches form under load and add no latency when idle.
   */
  commitBatch?: number
  /** Turns held in memory for the writers; beyond it they go to the spool file. */
  queueSize: number
  /** Bytes (raw body size of their exchanges) the queued turns may hold; beyond it they are spooled too. */
  queueMaxBytes?: number
  /** Holds spool.jsonl and dead-letter.jsonl. */
  dataDir: string
  logger: Logger
  registry: Registry
  retry?: RetryPolicy
  /**
   * Called once for every turn a commit settles, single and group commits alike, with the store's
   * result (also for a repeat, where `inserted` is false). Features that react to commits (loop
   * detection) hook in here instead of wrapping the Store. A hook that throws is logged, never retried.
   */
  onCommitted?: (turn: Turn, result: IngestResult) => void
}

export interface DrainResult {
  /** Turns committed while draining. */
  committed: number
  /** Turns written to the spool file while draining (replayed by the next start()). */
  spooled: number
}

export interface Recorder extends ExchangeConsumer {
  /** Creates the data dir and starts replaying spool files of earlier runs (in the background, ahead of new turns). */
  start(): Promise<void>
  /**
   * Stops taking exchanges and commits what is queued for at most `deadlineMs` milliseconds from now;
   * whatever is still uncommitted then is appended to the spool file, which is fsynced.
   */
  drain(deadlineMs: number): Promise<DrainResult>
}

/** A spool file being replayed: removed once every turn read from it is settled. */
interface ReplayBatch {
  file: string
  outstanding: number
  readDone: boolean
}

interface Pending {
  /** From a parse worker: `turn.nodes` keep hashes and roles only, the content is in `encodedNodes`. */
  turn: Turn
  encodedNodes: Uint8Array | undefined
  /** Raw body bytes of its exchange (or its spool line): what the queue's byte bound counts. */
  weight: number
  batch: ReplayBatch | undefined
  /** Committed, spooled or dead-lettered (or being so): nothing else may act on it. */
  claimed: boolean
}

/** The whole turn, content included, for the spool and dead-letter files (rare paths: decoded here). */
function fullTurn(item: Pending): Turn {
  return item.encodedNodes ? { ...item.turn, nodes: decodeNodes(item.encodedNodes) } : item.turn
}

function backoffMs(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt)
  return ceiling / 2 + (Math.random() * ceiling) / 2
}

/** Drop details that may quote body bytes (JSON.parse messages do) are cut to their prefix. */
function loggableDetail(reason: string, detail: string | undefined): string | undefined {
  return reason === 'request_parse' ? detail?.split(':')[0] : detail
}

export function createRecorder(deps: RecorderDeps): Recorder {
  const { store, logger } = deps
  const retry = deps.retry ?? DEFAULT_RETRY
  const commitBatch = Math.max(1, deps.commitBatch ?? DEFAULT_COMMIT_BATCH)
  const metrics = createRecorderMetrics(deps.registry)
  const spool = new JsonlAppender(path.join(deps.dataDir, SPOOL_FILE))
  const deadLetter = new JsonlAppender(path.join(deps.dataDir, DEAD_LETTER_FILE))
  const pool = createParsePool({
    size: deps.parseWorkers,
    buildOptions: deps.buildOptions,
    onWorkerFailure: (reason, detail) => logger.error('parse worker replaced', { reason, detail }),
  })

  const queue = new BoundedQueue<Pending>(
    Math.max(1, deps.queueSize),
    deps.queueMaxBytes ?? DEFAULT_QUEUE_MAX_BYTES,
  )
  const active = new Set<Pending>()
  const idleWriters: Array<() => void> = []
  const spaceWaiters: Array<() => void> = []
  const fileWrites = new Set<Promise<void>>()
  const replaying = new Set<string>()
  const stop = new AbortController()
  let parsing = 0
  let draining = false
  let stopped = false
  let drained: Promise<DrainResult> | undefined
  let committedCount = 0
  let spooledCount = 0
  let spoolHasTurns = false
  let replayRunning = false
  let databaseDown = false
  /** The queue overflowed since it was last empty: logged once per episode, not per turn. */
  let overflowing = false

  const setGauges = () => {
    metrics.queueDepth.set(queue.length)
    metrics.parsePending.set(parsing)
  }
  const wakeAll = (waiters: Array<() => void>) => {
    for (const wake of waiters.splice(0)) wake()
  }
  /** Keeps file writes visible to drain; a failure is logged here unless the caller handled it. */
  const track = (write: Promise<void>) => {
    const done = write.then(
      () => {},
      (err) => logger.error('recorder file write failed', { err }),
    )
    fileWrites.add(done)
    void done.then(() => fileWrites.delete(done))
  }
  const drop = (reason: string, requestId: string | undefined, detail?: string) => {
    metrics.dropped.inc({ reason })
    logger.debug('exchange dropped', { requestId, reason, detail: loggableDetail(reason, detail) })
  }

  const claim = (item: Pending): boolean => {
    if (item.claimed) return false
    item.claimed = true
    return true
  }

  /** The item's fate is durable: its replay file may go once all its siblings are settled too. */
  const settled = (item: Pending) => {
    const batch = item.batch
    if (!batch) return
    batch.outstanding--
    finishBatch(batch)
  }

  const finishBatch = (batch: ReplayBatch) => {
    if (!batch.readDone || batch.outstanding > 0) return
    // Turns re-spooled from this batch must be on disk before the file they came from is removed.
    track(
      spool
        .sync()
        .then(() => removeClaimedFile(batch.file))
        .then(
          () => logger.info('spool file replayed', { file: batch.file }),
          (err) =>
            logger.error('spool file not removed; it will be replayed again', { file: batch.file, err }),
        )
        .finally(() => replaying.delete(batch.file)),
    )
  }

  const spoolTurns = (items: Pending[], reason: SpoolReason) => {
    const mine = items.filter(claim)
    if (mine.length === 0) return
    const write = spool.append(mine.map((item) => spoolRecord(fullTurn(item), reason))).then(
      () => {
        spooledCount += mine.length
        spoolHasTurns = true
        metrics.spooled.inc({ reason }, mine.length)
        if (reason === 'drain') logger.warn('uncommitted turns spooled at shutdown', { count: mine.length })
        for (const item of mine) settled(item)
      },
      (err) => {
        // Not settled: a turn that came from a replay file keeps that file alive.
        for (const item of mine) drop('spool_write_failed', item.turn.requestId)
        logger.error('spool write failed; turns lost', { reason, count: mine.length, err })
      },
    )
    track(write)
  }

  const deadLetterTurn = (item: Pending, err: unknown) => {
    if (!claim(item)) return
    const error = err instanceof Error ? err.message : String(err)
    const code = (err as { code?: unknown } | null)?.code
    const record = {
      time: new Date().toISOString(),
      error,
      code,
      requestId: item.turn.requestId,
      orgId: item.turn.envelope.orgId,
      turn: jsonTurn(fullTurn(item)),
    }
    const write = deadLetter.append([record]).then(
      () => {
        metrics.deadLettered.inc()
        logger.error('turn rejected by the database; dead-lettered', {
          requestId: item.turn.requestId,
          code,
          error,
        })
        settled(item)
      },
      (writeErr) =>
        logger.error('dead-letter write failed; turn lost', {
          requestId: item.turn.requestId,
          err: writeErr,
        }),
    )
    track(write)
  }

  const enqueue = (item: Pending) => {
    if (!queue.offer(item)) {
      if (!overflowing) {
        overflowing = true
        logger.warn('commit queue full; spooling turns to disk', { queued: queue.length, bytes: queue.bytes })
      }
      spoolTurns([item], 'overflow')
      return
    }
    setGauges()
    idleWriters.shift()?.()
  }

  const onCommitted = () => {
    if (databaseDown) {
      databaseDown = false
      logger.info('database reachable again; committing held turns', { queued: queue.length })
    }
    if (queue.length > 0) return
    overflowing = false
    // Turns spooled while the database was away come back once the backlog is gone.
    if (spoolHasTurns) startReplay()
  }

  const recordCommitted = (item: Pending, result: IngestResult) => {
    if (result.inserted) {
      committedCount++
      metrics.committed.inc()
    } else metrics.alreadyCommitted.inc()
    if (claim(item)) settled(item)
    try {
      deps.onCommitted?.(item.turn, result)
    } catch (err) {
      logger.error('commit hook failed', { requestId: item.turn.requestId, err })
    }
  }

  /** Commits the items in one transaction, retrying while the database is away. */
  async function commit(items: Pending[]): Promise<void> {
    for (let attempt = 0; !stopped; attempt++) {
      const startedAt = performance.now()
      try {
        const results =
          items.length === 1
            ? [await store.ingest(items[0]!.turn, items[0]!.encodedNodes)]
            : await store.ingestBatch(items.map(({ turn, encodedNodes }) => ({ turn, encodedNodes })))
        metrics.commitSeconds.observe((performance.now() - startedAt) / 1000)
        for (const [i, item] of items.entries()) recordCommitted(item, results[i]!)
        onCommitted()
        return
      } catch (err) {
        if (classifyStoreError(err) === 'permanent') {
          if (items.length === 1) deadLetterTurn(items[0]!, err)
          // A batch fails as a whole: its turns go again one by one, so that only the turn the
          // database refuses is dead-lettered and the others commit.
          else for (const item of items) await commit([item])
          return
        }
        metrics.retries.inc()
        if (!databaseDown) {
          databaseDown = true
          logger.warn('database unavailable; holding turns and retrying', { err })
        }
        await sleep(backoffMs(retry, attempt), undefined, { signal: stop.signal }).catch(() => {})
      }
    }
    // Stopped by the drain deadline: drain spools whatever is still active.
  }

  /** Up to commitBatch queued turns, in queue order. */
  function takeBatch(): Pending[] {
    const items: Pending[] = []
    for (let item = queue.shift(); item; item = items.length < commitBatch ? queue.shift() : undefined) {
      items.push(item)
    }
    return items
  }

  async function writer(): Promise<void> {
    while (!stopped) {
      const items = takeBatch()
      if (items.length === 0) {
        await new Promise<void>((resolve) => idleWriters.push(resolve))
        continue
      }
      setGauges()
      if (!queue.filledTo(REPLAY_SHARE)) wakeAll(spaceWaiters)
      for (const item of items) active.add(item)
      await commit(items)
      for (const item of items) active.delete(item)
    }
  }
  const writerLoops = Array.from({ length: Math.max(1, deps.writers) }, () => writer())

  async function replayFile(file: string): Promise<void> {
    const batch: ReplayBatch = { file, outstanding: 0, readDone: false }
    for await (const entry of readSpoolFile(file)) {
      // Draining: leave the file; what was already queued from it commits or is spooled again.
      if (draining) return
      if (!entry.ok) {
        const record = { time: new Date().toISOString(), error: entry.error, file, line: entry.line }
        track(deadLetter.append([record]).then(() => metrics.deadLettered.inc()))
        logger.error('unreadable spool line dead-lettered', { file, error: entry.error })
        continue
      }
      metrics.replayed.inc()
      while (queue.filledTo(REPLAY_SHARE) && !draining) {
        await new Promise<void>((resolve) => spaceWaiters.push(resolve))
      }
      if (draining) return
      batch.outstanding++
      queue.push({ turn: entry.turn, encodedNodes: undefined, weight: entry.bytes, batch, claimed: false })
      setGauges()
      idleWriters.shift()?.()
    }
    batch.readDone = true
    finishBatch(batch)
  }

  function startReplay(): void {
    if (replayRunning || draining) return
    replayRunning = true
    spoolHasTurns = false
    void (async () => {
      try {
        const files = await claimSpoolFiles(deps.dataDir, spool)
        for (const file of files) {
          if (replaying.has(file) || draining) continue
          replaying.add(file)
          logger.info('replaying spool file', { file })
          await replayFile(file).catch((err) => {
            replaying.delete(file)
            logger.error('spool replay failed; the file stays for the next start', { file, err })
          })
        }
      } catch (err) {
        logger.error('spool files could not be claimed', { err })
      } finally {
        replayRunning = false
      }
    })()
  }

  const onBuilt = (result: ParseResult, requestId: string, weight: number) => {
    if (!result.ok) {
      drop(result.reason, requestId, result.detail)
      return
    }
    if (stopped) {
      drop('shutting_down', requestId)
      return
    }
    metrics.turnsBuilt.inc()
    for (const rejection of result.rejected) metrics.envelopeRejected.labels(rejection).inc()
    if (result.notes.length > 0 || result.rejected.length > 0) {
      logger.debug('turn built with notes', { requestId, notes: result.notes, rejected: result.rejected })
    }
    enqueue({
      turn: result.turn,
      encodedNodes: result.encodedNodes,
      weight,
      batch: undefined,
      claimed: false,
    })
  }

  return {
    consume(exchange: Exchange): void {
      try {
        if (stopped) {
          drop('shutting_down', exchange.requestId)
          return
        }
        parsing++
        setGauges()
        // The callbacks keep only these two, not the exchange: its bodies are freed once posted to a worker.
        const { requestId } = exchange
        const weight = exchange.request.body.size + (exchange.response?.body.size ?? 0)
        void pool
          .run(exchange)
          .then(
            (result) => onBuilt(result, requestId, weight),
            (err) => drop('build_failed', requestId, (err as Error).message),
          )
          .finally(() => {
            parsing--
            setGauges()
          })
      } catch (err) {
        drop('consume_failed', exchange.requestId, (err as Error).message)
      }
    },

    async start(): Promise<void> {
      await mkdir(deps.dataDir, { recursive: true })
      startReplay()
    },

    drain(deadlineMs: number): Promise<DrainResult> {
      drained ??= (async () => {
        draining = true
        wakeAll(spaceWaiters)
        const before = { committed: committedCount, spooled: spooledCount }
        const deadline = Date.now() + Math.max(0, deadlineMs)
        while (Date.now() < deadline && (parsing > 0 || queue.length > 0 || active.size > 0)) {
          await sleep(Math.min(20, deadline - Date.now()))
        }
        stopped = true
        // Claimed before anything yields, so a writer leaving its retry loop cannot take its turn along.
        spoolTurns([...queue.takeAll(), ...active], 'drain')
        setGauges()
        stop.abort()
        wakeAll(idleWriters)
        await pool.close()
        // Writers blocked in a query that will never answer are not waited for: their turns are spooled.
        await Promise.race([Promise.all(writerLoops), sleep(Math.max(0, deadline - Date.now()))])
        while (fileWrites.size > 0) await Promise.allSettled([...fileWrites])
        await Promise.all([spool.close(), deadLetter.close()])
        const result = {
          committed: committedCount - before.committed,
          spooled: spooledCount - before.spooled,
        }
        logger.info('recorder drained', result)
        return result
      })()
      return drained
    },
  }
}
