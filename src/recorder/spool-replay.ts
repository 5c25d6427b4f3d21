/**
 * Replays spool files of this run (written while the database was away) and of earlier runs: each
 * file is claimed, read line by line into the queue behind live traffic (at most REPLAY_SHARE of it),
 * and removed once every turn read from it is settled.
 */
import type { Logger } from '../log.js'
import { PendingTurn, ReplayBatch } from './pending.js'
import type { RecorderMetrics } from './recorder-metrics.js'
import { claimSpoolFiles, readSpoolFile, removeClaimedFile } from './spool.js'
import type { SpoolWriter } from './spool-writer.js'
import type { BoundedQueue } from './turn-queue.js'

/** The replay feeder leaves the upper half of the queue to live traffic. */
export const REPLAY_SHARE = 0.5

export interface SpoolReplayDeps {
  dataDir: string
  files: SpoolWriter
  queue: BoundedQueue<PendingTurn>
  /** Puts a replayed turn in the queue (past its bounds: the feeder already waited for room). */
  push: (item: PendingTurn) => void
  metrics: RecorderMetrics
  logger: Logger
}

export class SpoolReplay {
  private running = false
  private stopping = false
  private readonly replaying = new Set<string>()
  private readonly roomWaiters: Array<() => void> = []

  constructor(private readonly deps: SpoolReplayDeps) {}

  /** Replays every spool file not being replayed yet, in the background; no-op while a replay runs. */
  start(): void {
    if (this.running || this.stopping) return
    this.running = true
    this.deps.files.hasTurns = false
    void this.replayAll().finally(() => {
      this.running = false
    })
  }

  /** The queue has room again (a writer took turns). */
  roomFreed(): void {
    if (!this.deps.queue.filledTo(REPLAY_SHARE)) this.wakeWaiters()
  }

  /** Draining: stop reading; what was already queued commits or is spooled again. */
  stop(): void {
    this.stopping = true
    this.wakeWaiters()
  }

  private wakeWaiters(): void {
    for (const wake of this.roomWaiters.splice(0)) wake()
  }

  private async replayAll(): Promise<void> {
    const { logger } = this.deps
    try {
      const files = await claimSpoolFiles(this.deps.dataDir, this.deps.files.spool)
      for (const file of files) {
        if (this.replaying.has(file) || this.stopping) continue
        this.replaying.add(file)
        logger.info('replaying spool file', { file })
        await this.replayFile(file).catch((err) => {
          this.replaying.delete(file)
          logger.error('spool replay failed; the file stays for the next start', { file, err })
        })
      }
    } catch (err) {
      logger.error('spool files could not be claimed', { err })
    }
  }

  private async replayFile(file: string): Promise<void> {
    const { queue, metrics } = this.deps
    const batch = new ReplayBatch(file, (done) => this.finish(done))
    for await (const entry of readSpoolFile(file)) {
      if (this.stopping) return
      if (!entry.ok) {
        this.deps.files.deadLetterLine(file, entry.line, entry.error)
        continue
      }
      metrics.replayed.inc()
      while (queue.filledTo(REPLAY_SHARE) && !this.stopping) {
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve))
      }
      if (this.stopping) return
      this.deps.push(new PendingTurn(entry.turn, undefined, entry.bytes, batch))
    }
    batch.endOfFile()
  }

  /** Every turn of the file is settled: it may go, once turns re-spooled from it are on disk. */
  private finish(batch: ReplayBatch): void {
    const { files, logger } = this.deps
    files.track(
      files.spool
        .sync()
        .then(() => removeClaimedFile(batch.file))
        .then(
          () => logger.info('spool file replayed', { file: batch.file }),
          (err) =>
            logger.error('spool file not removed; it will be replayed again', { file: batch.file, err }),
        )
        .finally(() => this.replaying.delete(batch.file)),
    )
  }
}
