/**
 * Writes turns that cannot be committed now to the data dir: the spool file (to commit later) and the
 * dead-letter file (refused by the database, kept for a person). Every write is tracked so drain can
 * wait for it; a turn is settled only once its line is written.
 */
import path from 'node:path'
import type { Logger } from '../log.js'
import type { DropReason } from './drop-reasons.js'
import { JsonlAppender } from './jsonl-appender.js'
import type { PendingTurn } from './pending.js'
import type { RecorderMetrics } from './recorder-metrics.js'
import { DEAD_LETTER_FILE, jsonTurn, SPOOL_FILE, type SpoolReason, spoolRecord } from './spool.js'

export interface SpoolWriterDeps {
  dataDir: string
  metrics: RecorderMetrics
  logger: Logger
  drop: (reason: DropReason, requestId: string) => void
}

export class SpoolWriter {
  /** The active spool file; replay claims it (renames it) before reading. */
  readonly spool: JsonlAppender
  private readonly deadLetter: JsonlAppender
  private readonly writes = new Set<Promise<void>>()
  /** Turns spooled so far (drain reports the difference). */
  spooledCount = 0
  /** Turns were spooled since the last replay began: replay again once the backlog is gone. */
  hasTurns = false

  constructor(private readonly deps: SpoolWriterDeps) {
    this.spool = new JsonlAppender(path.join(deps.dataDir, SPOOL_FILE))
    this.deadLetter = new JsonlAppender(path.join(deps.dataDir, DEAD_LETTER_FILE))
  }

  /** Keeps a file write visible to drain; a failure is logged here unless the caller handled it. */
  track(write: Promise<void>): void {
    const done = write.then(
      () => {},
      (err) => this.deps.logger.error('recorder file write failed', { err }),
    )
    this.writes.add(done)
    void done.then(() => this.writes.delete(done))
  }

  /** Spools the turns nobody else has claimed; each is settled once its line is written. */
  spoolTurns(items: PendingTurn[], reason: SpoolReason): void {
    const mine = items.filter((item) => item.claim())
    if (mine.length === 0) return
    const { metrics, logger } = this.deps
    const write = this.spool.append(mine.map((item) => spoolRecord(item.fullTurn(), reason))).then(
      () => {
        this.spooledCount += mine.length
        this.hasTurns = true
        metrics.spooled.inc({ reason }, mine.length)
        if (reason === 'drain') logger.warn('uncommitted turns spooled at shutdown', { count: mine.length })
        for (const item of mine) item.settle()
      },
      (err) => {
        // Not settled: a turn that came from a replay file keeps that file alive.
        for (const item of mine) this.deps.drop('spool_write_failed', item.turn.requestId)
        logger.error('spool write failed; turns lost', { reason, count: mine.length, err })
      },
    )
    this.track(write)
  }

  /** A turn the database refuses for good (a permanent error) goes to the dead-letter file. */
  deadLetterTurn(item: PendingTurn, err: unknown): void {
    if (!item.claim()) return
    const { metrics, logger } = this.deps
    const error = err instanceof Error ? err.message : String(err)
    const code = (err as { code?: unknown } | null)?.code
    const { requestId } = item.turn
    const record = {
      time: new Date().toISOString(),
      error,
      code,
      requestId,
      orgId: item.turn.envelope.orgId,
      turn: jsonTurn(item.fullTurn()),
    }
    const write = this.deadLetter.append([record]).then(
      () => {
        metrics.deadLettered.inc()
        logger.error('turn rejected by the database; dead-lettered', { requestId, code, error })
        item.settle()
      },
      (writeErr) => logger.error('dead-letter write failed; turn lost', { requestId, err: writeErr }),
    )
    this.track(write)
  }

  /** A spool line that no longer parses is kept as it was, for a person to look at. */
  deadLetterLine(file: string, line: string, error: string): void {
    const record = { time: new Date().toISOString(), error, file, line }
    this.track(this.deadLetter.append([record]).then(() => this.deps.metrics.deadLettered.inc()))
    this.deps.logger.error('unreadable spool line dead-lettered', { file, error })
  }

  /** Waits for every write, including those started while waiting. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes])
  }

  async close(): Promise<void> {
    await Promise.all([this.spool.close(), this.deadLetter.close()])
  }
}
