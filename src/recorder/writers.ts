/**
 * The commit writers: N loops that each take up to commitBatch queued turns and commit them in one
 * transaction, retrying with backoff while the database is away. A batch the database refuses is
 * retried turn by turn, so only the turn it refuses is dead-lettered.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../log.js'
import { classifyStoreError, type IngestResult, type Store } from '../store/index.js'
import type { PendingTurn } from './pending.js'
import type { RecorderMetrics } from './recorder-metrics.js'
import type { SpoolWriter } from './spool-writer.js'
import type { BoundedQueue } from './turn-queue.js'

export interface RetryPolicy {
  /** First backoff ceiling; it doubles per attempt up to maxMs, with jitter over its upper half. */
  baseMs: number
  maxMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 100, maxMs: 5000 }

function backoffMs(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt)
  return ceiling / 2 + (Math.random() * ceiling) / 2
}

export interface WritersDeps {
  store: Store
  queue: BoundedQueue<PendingTurn>
  count: number
  commitBatch: number
  retry: RetryPolicy
  files: SpoolWriter
  metrics: RecorderMetrics
  logger: Logger
  /** A writer took turns from the queue: there is room again. */
  onTaken: () => void
  /** One turn settled by a commit (also a repeat, `inserted` false). */
  onCommitted: (item: PendingTurn, result: IngestResult) => void
  /** A commit succeeded (after its turns' onCommitted). */
  onCommitSucceeded: () => void
}

export class Writers {
  /** Turns a writer has taken and not yet settled: drain spools them if their commit cannot finish. */
  readonly active = new Set<PendingTurn>()
  private readonly idle: Array<() => void> = []
  private readonly abort = new AbortController()
  private stopped = false
  private databaseDown = false
  private readonly loops: Promise<void>[]

  constructor(private readonly deps: WritersDeps) {
    this.loops = Array.from({ length: Math.max(1, deps.count) }, () => this.loop())
  }

  /** A turn was queued: an idle writer takes it. */
  wake(): void {
    this.idle.shift()?.()
  }

  /** Stops every loop: retries end at once, idle writers return. Turns still active are the caller's to spool. */
  halt(): void {
    this.stopped = true
    this.abort.abort()
    for (const wake of this.idle.splice(0)) wake()
  }

  /** Resolves when every loop has returned (a loop blocked in a query that never answers does not). */
  finished(): Promise<void> {
    return Promise.all(this.loops).then(() => {})
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const items = this.takeBatch()
      if (items.length === 0) {
        await new Promise<void>((resolve) => this.idle.push(resolve))
        continue
      }
      this.deps.onTaken()
      for (const item of items) this.active.add(item)
      await this.commit(items)
      for (const item of items) this.active.delete(item)
    }
  }

  /** Up to commitBatch queued turns, in queue order. */
  private takeBatch(): PendingTurn[] {
    const { queue, commitBatch } = this.deps
    const items: PendingTurn[] = []
    for (let item = queue.shift(); item; item = items.length < commitBatch ? queue.shift() : undefined) {
      items.push(item)
    }
    return items
  }

  /** Commits the items in one transaction, retrying while the database is away. */
  private async commit(items: PendingTurn[]): Promise<void> {
    const { store, metrics, logger } = this.deps
    for (let attempt = 0; !this.stopped; attempt++) {
      const startedAt = performance.now()
      try {
        const results =
          items.length === 1
            ? [await store.ingest(items[0]!.turn, items[0]!.encodedNodes)]
            : await store.ingestBatch(items.map(({ turn, encodedNodes }) => ({ turn, encodedNodes })))
        metrics.commitSeconds.observe((performance.now() - startedAt) / 1000)
        for (const [i, item] of items.entries()) this.deps.onCommitted(item, results[i]!)
        if (this.databaseDown) {
          this.databaseDown = false
          logger.info('database reachable again; committing held turns', { queued: this.deps.queue.length })
        }
        this.deps.onCommitSucceeded()
        return
      } catch (err) {
        if (classifyStoreError(err) === 'permanent') {
          if (items.length === 1) this.deps.files.deadLetterTurn(items[0]!, err)
          // A batch fails as a whole: its turns go again one by one, so the others commit.
          else for (const item of items) await this.commit([item])
          return
        }
        metrics.retries.inc()
        if (!this.databaseDown) {
          this.databaseDown = true
          logger.warn('database unavailable; holding turns and retrying', { err })
        }
        await sleep(backoffMs(this.deps.retry, attempt), undefined, { signal: this.abort.signal }).catch(
          () => {},
        )
      }
    }
    // Stopped by the drain deadline: drain spools whatever is still active.
  }
}
