/**
 * The recorder: the ExchangeConsumer that turns captured exchanges into committed turns. Exchanges are
 * built off the main thread (parse pool), queued, and committed by N writers (writers.ts); what cannot
 * wait in memory goes to a local spool file (spool-writer.ts), replayed later (spool-replay.ts).
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Registry } from 'prom-client'
import type { Exchange, ExchangeConsumer } from '../exchange.js'
import { LIMITS } from '../limits.js'
import { createRateLimitedLog, type Logger } from '../log.js'
import type { Turn } from '../session/turn.js'
import type { IngestResult, Store } from '../store/index.js'
import { DROP_REASONS, type DropReason, loggableDetail } from './drop-reasons.js'
import { Journal, type JournalEntry } from './journal.js'
import { MemoryRelease } from './memory-release.js'
import { createParsePool, type ParsePool } from './parse-pool.js'
import type { ParseResult } from './parse-protocol.js'
import { PendingTurn } from './pending.js'
import { createRecorderMetrics } from './recorder-metrics.js'
import { SpoolReplay } from './spool-replay.js'
import { SpoolWriter } from './spool-writer.js'
import type { TurnBuildOptions } from './turn-builder.js'
import { BoundedQueue } from './turn-queue.js'
import { DEFAULT_RETRY, type RetryPolicy, Writers } from './writers.js'

export const DEFAULT_QUEUE_MAX_BYTES = LIMITS.queueBytes
/** Journal entries reach the disk at most this long after their exchange ended. */
export const DEFAULT_JOURNAL_SYNC_MS = 100
/** Journaled exchanges of an earlier run in the parse pool at once while they are replayed. */
const JOURNAL_REPLAY_IN_FLIGHT = 16
/** Enough to pay BEGIN/COMMIT once for many turns, few enough that writers rarely wait on each other's sessions. */
export const DEFAULT_COMMIT_BATCH = 16

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
  /**
   * Crash journal under dataDir/journal (default on): every exchange is on disk within this many
   * milliseconds, so a SIGKILL loses none finished earlier. 0: no journal.
   */
  journalSyncMs?: number
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

export function createRecorder(deps: RecorderDeps): Recorder {
  const { logger } = deps
  const metrics = createRecorderMetrics(deps.registry)
  // Every reason shows as 0 from the start, so a rate over it needs no first drop.
  for (const reason of DROP_REASONS) metrics.dropped.inc({ reason }, 0)
  const badInput = createRateLimitedLog(logger)
  const drop = (reason: DropReason, requestId: string | undefined, detail?: string) => {
    metrics.dropped.inc({ reason })
    const fields = { requestId, reason, detail: loggableDetail(reason, detail) }
    // Traffic that is not an LLM call is normal; every other drop is worth a (rate-limited) line.
    if (reason === 'not_llm_api') logger.debug('exchange dropped', fields)
    else badInput('warn', reason, 'exchange dropped', fields)
  }
  const poolOptions = {
    buildOptions: deps.buildOptions,
    onWorkerFailure: (reason: string, detail: string) =>
      logger.error('parse worker replaced', { reason, detail }),
  }
  const pool = createParsePool({ ...poolOptions, size: deps.parseWorkers })
  // Big bodies get a worker of their own (made on first use), so one of them never holds up the
  // many small exchanges behind it. Without workers everything runs inline anyway.
  let bigBodies: ParsePool | undefined
  const poolFor = (weight: number): ParsePool => {
    if (deps.parseWorkers === 0 || weight < LIMITS.bigBodyBytes) return pool
    bigBodies ??= createParsePool({ ...poolOptions, size: 1 })
    return bigBodies
  }
  const queue = new BoundedQueue<PendingTurn>(
    Math.max(1, deps.queueSize),
    deps.queueMaxBytes ?? DEFAULT_QUEUE_MAX_BYTES,
  )
  const files = new SpoolWriter({ dataDir: deps.dataDir, metrics, logger, drop })
  const journal =
    deps.journalSyncMs === 0
      ? undefined
      : new Journal(
          {
            dir: path.join(deps.dataDir, 'journal'),
            syncIntervalMs: deps.journalSyncMs ?? DEFAULT_JOURNAL_SYNC_MS,
            segmentBytes: LIMITS.journalSegmentBytes,
            maxBytes: LIMITS.journalBytes,
          },
          (err) => logger.error('crash journal write failed', { err }),
        )
  const settleEntry = (entry: JournalEntry | null) => {
    if (entry) journal?.settle(entry)
  }

  let parsing = 0
  let stopped = false
  let drained: Promise<DrainResult> | undefined
  let committedCount = 0
  /** The queue overflowed since it was last empty: logged once per episode, not per turn. */
  let overflowing = false

  const setGauges = () => {
    metrics.queueDepth.set(queue.length)
    metrics.parsePending.set(parsing)
    if (journal) metrics.journalBytes.set(journal.bytes)
  }

  const memory = new MemoryRelease({
    stillEmpty: () => queue.length === 0 && !files.hasTurns,
    onReleased: (pauseMs, rssBefore, rssAfter) => {
      metrics.memoryReleases.inc()
      const mb = (bytes: number) => Math.round(bytes / 2 ** 20)
      logger.info('commit backlog drained; memory given back', {
        pauseMs: Math.round(pauseMs),
        rssBeforeMb: mb(rssBefore),
        rssAfterMb: mb(rssAfter),
      })
    },
  })

  const replay = new SpoolReplay({
    dataDir: deps.dataDir,
    files,
    queue,
    push: (item) => {
      queue.push(item)
      setGauges()
      writers.wake()
    },
    metrics,
    logger,
  })

  const writers = new Writers({
    store: deps.store,
    queue,
    count: deps.writers,
    commitBatch: Math.max(1, deps.commitBatch ?? DEFAULT_COMMIT_BATCH),
    retry: deps.retry ?? DEFAULT_RETRY,
    files,
    metrics,
    logger,
    onTaken: () => {
      setGauges()
      replay.roomFreed()
    },
    onCommitted: (item, result) => {
      if (result.inserted) {
        committedCount++
        metrics.committed.inc()
      } else metrics.alreadyCommitted.inc()
      if (item.claim()) item.settle()
      try {
        deps.onCommitted?.(item.turn, result)
      } catch (err) {
        logger.error('commit hook failed', { requestId: item.turn.requestId, err })
      }
    },
    onCommitSucceeded: () => {
      if (queue.length > 0) return
      overflowing = false
      // Turns spooled while the database was away come back once the backlog is gone.
      if (files.hasTurns) replay.start()
      else memory.backlogGone(queue.takePeak())
    },
  })

  const enqueue = (item: PendingTurn) => {
    if (!queue.offer(item)) {
      if (!overflowing) {
        overflowing = true
        logger.warn('commit queue full; spooling turns to disk', { queued: queue.length, bytes: queue.bytes })
      }
      files.spoolTurns([item], 'overflow')
      return
    }
    setGauges()
    writers.wake()
  }

  const onBuilt = (result: ParseResult, requestId: string, weight: number, entry: JournalEntry | null) => {
    if (!result.ok) {
      drop(result.reason, requestId, result.detail)
      // Cut off by the shutdown, not by its content: its journal entry stays for the next start.
      if (result.reason !== 'pool_closed') settleEntry(entry)
      return
    }
    if (stopped) {
      // Its journal entry stays: the next start records it.
      drop('shutting_down', requestId)
      return
    }
    metrics.turnsBuilt.inc()
    if (result.redacted > 0) metrics.redactions.inc(result.redacted)
    for (const [outcome, count] of [
      ['hit', result.nodeCache.hits],
      ['miss', result.nodeCache.misses],
      ['eviction', result.nodeCache.evictions],
    ] as const)
      if (count > 0) metrics.nodeCache.labels(outcome).inc(count)
    for (const rejection of result.rejected) metrics.envelopeRejected.labels(rejection).inc()
    if (result.notes.length > 0 || result.rejected.length > 0) {
      logger.debug('turn built with notes', { requestId, notes: result.notes, rejected: result.rejected })
    }
    enqueue(new PendingTurn(result.turn, result.encodedNodes, weight, undefined, () => settleEntry(entry)))
  }

  const consume = (exchange: Exchange): void => {
    try {
      // Journaled first, even when shutting down: what cannot be recorded now is recorded at the next start.
      const entry = journal?.append(exchange) ?? null
      if (stopped) {
        drop('shutting_down', exchange.requestId)
        return
      }
      if (journal?.writable && !entry) metrics.journalOverflow.inc()
      parsing++
      setGauges()
      // The callbacks keep only these, not the exchange: its bodies are freed once posted to a worker.
      const { requestId } = exchange
      const weight = exchange.request.body.size + (exchange.response?.body.size ?? 0)
      void poolFor(weight)
        .run(exchange)
        .then(
          (result) => onBuilt(result, requestId, weight, entry),
          (err) => {
            drop('build_failed', requestId, (err as Error).message)
            settleEntry(entry)
          },
        )
        .finally(() => {
          parsing--
          setGauges()
        })
    } catch (err) {
      drop('consume_failed', exchange.requestId, (err as Error).message)
    }
  }

  /** Records again what the journals of earlier runs hold, a few at a time behind live traffic. */
  const replayJournals = async (files: string[]) => {
    for (const file of files) {
      const { exchanges, torn } = await journal!.read(file)
      if (torn)
        logger.warn('crash journal ends in a torn record (a crash mid-write); the rest is replayed', { file })
      logger.info('replaying crash journal', { file, exchanges: exchanges.length })
      for (const exchange of exchanges) {
        while (parsing >= JOURNAL_REPLAY_IN_FLIGHT && !stopped) await sleep(5)
        if (stopped) return
        metrics.journalReplayed.inc()
        consume(exchange)
      }
      await journal!.forget(file)
    }
  }

  return {
    consume(exchange: Exchange): void {
      consume(exchange)
    },
    async start(): Promise<void> {
      await mkdir(deps.dataDir, { recursive: true })
      const leftovers = (await journal?.open()) ?? []
      replay.start()
      if (leftovers.length > 0) {
        void replayJournals(leftovers).catch((err) =>
          logger.error('crash journal replay failed; the files stay for the next start', { err }),
        )
      }
    },

    drain(deadlineMs: number): Promise<DrainResult> {
      drained ??= (async () => {
        replay.stop()
        memory.stop()
        const before = { committed: committedCount, spooled: files.spooledCount }
        const deadline = Date.now() + Math.max(0, deadlineMs)
        while (Date.now() < deadline && (parsing > 0 || queue.length > 0 || writers.active.size > 0)) {
          await sleep(Math.min(20, deadline - Date.now()))
        }
        stopped = true
        // Claimed before anything yields, so a writer leaving its retry loop cannot take its turn along.
        files.spoolTurns([...queue.takeAll(), ...writers.active], 'drain')
        setGauges()
        writers.halt()
        await Promise.all([pool.close(), bigBodies?.close()])
        // Writers blocked in a query that will never answer are not waited for: their turns are spooled.
        // The deadline timer is cancelled once they are done, so an idle sidecar exits at once.
        const giveUp = new AbortController()
        await Promise.race([
          writers.finished(),
          sleep(Math.max(0, deadline - Date.now()), undefined, { signal: giveUp.signal }).catch(() => {}),
        ])
        giveUp.abort()
        await files.flush()
        await files.close()
        // Entries of turns still unsettled (a writer stuck past the deadline) stay for the next start.
        await journal?.close()
        const result = {
          committed: committedCount - before.committed,
          spooled: files.spooledCount - before.spooled,
        }
        logger.info('recorder drained', result)
        return result
      })()
      return drained
    },
  }
}
