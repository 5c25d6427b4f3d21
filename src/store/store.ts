/**
 * The Store: commits Turns, ends idle sessions, answers readiness. One implementation over the
 * Driver interface, opened on a Postgres server (DATABASE_URL) or on embedded PGlite.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { v7 as uuidv7 } from 'uuid'
import type { Turn } from '../session/turn.js'
import type { Driver, SqlSession } from './driver.js'
import { TRANSACTION_RETRY_CODES } from './errors.js'
import { type IngestResult, ingestTurnsInTransaction } from './ingest.js'
import { TransactionRaceError } from './ingest-common.js'
import { runMigrations } from './migrate.js'
import { nodesParameter } from './node-records.js'
import { openPgDriver } from './pg-driver.js'
import { storableJson } from './pg-text.js'
import { openPgliteDriver } from './pglite-driver.js'

export interface Store {
  readonly driver: Driver
  /**
   * Commits one turn in one transaction; re-committing the same (org, request id) changes nothing.
   * `encodedNodes`: encodeNodes(turn.nodes) made where the turn was built; then only the nodes' hashes
   * are read from `turn.nodes`.
   */
  ingest(turn: Turn, encodedNodes?: Uint8Array): Promise<IngestResult>
  /**
   * Commits several turns in one transaction (group commit): all or none. Returns one result per item,
   * in order; a request id repeated in the batch or committed before gets the original ids. A
   * permanent error fails the whole batch: the caller commits its turns one by one to find the bad one.
   */
  ingestBatch(items: readonly IngestItem[]): Promise<IngestResult[]>
  /** Ends (reason 'idle') every open session whose last activity is older than idleMs; returns how many. */
  endIdleSessions(idleMs: number, now?: Date): Promise<number>
  /** Resolves when the database answers a query (readiness). */
  ping(): Promise<void>
  close(): Promise<void>
}

export interface IngestItem {
  turn: Turn
  /** As for ingest: encodeNodes(turn.nodes), made where the turn was built. */
  encodedNodes?: Uint8Array
}

export interface StoreOptions {
  /** How many times one ingest (or batch) runs its transaction when it hits 40001/40P01 or a race. */
  maxTransactionAttempts?: number
}

const DEFAULT_MAX_TRANSACTION_ATTEMPTS = 8

function mustRetryTransaction(err: unknown): boolean {
  if (err instanceof TransactionRaceError) return true
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && TRANSACTION_RETRY_CODES.has(code)
}

export function createStore(driver: Driver, options: StoreOptions = {}): Store {
  const maxAttempts = options.maxTransactionAttempts ?? DEFAULT_MAX_TRANSACTION_ATTEMPTS
  const binary = driver.kind === 'pg'
  const nodesOf = (turn: Turn, encodedNodes: Uint8Array | undefined) =>
    encodedNodes ? nodesParameter(encodedNodes, binary) : storableJson(turn.nodes)

  /** Runs the transaction again on 40001/40P01 or a race, up to maxAttempts times. */
  async function withRetries<T>(run: (tx: SqlSession, attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await driver.transaction((tx) => run(tx, attempt))
      } catch (err) {
        if (attempt >= maxAttempts || !mustRetryTransaction(err)) throw err
        // A repeat of a committed turn is answered by the next attempt's lookup: no need to wait.
        // Otherwise a jittered backoff, so the transactions that collided do not collide again.
        if (!(attempt === 1 && err instanceof TransactionRaceError))
          await sleep(Math.random() * 5 * 2 ** attempt)
      }
    }
  }

  /** First attempt without the lookup of committed request ids: a repeat rolls back and retries with it. */
  const ingestTurns = (items: Array<{ turn: Turn; nodes: Buffer | string }>) =>
    withRetries((tx, attempt) =>
      ingestTurnsInTransaction(tx, items, uuidv7, { lookupFirst: attempt > 1, binary }),
    )

  return {
    driver,
    async ingest(turn: Turn, encodedNodes?: Uint8Array): Promise<IngestResult> {
      const [result] = await ingestTurns([{ turn, nodes: nodesOf(turn, encodedNodes) }])
      return result!
    },
    async ingestBatch(items: readonly IngestItem[]): Promise<IngestResult[]> {
      if (items.length === 0) return []
      return ingestTurns(
        items.map(({ turn, encodedNodes }) => ({ turn, nodes: nodesOf(turn, encodedNodes) })),
      )
    },
    async endIdleSessions(idleMs: number, now: Date = new Date()): Promise<number> {
      // A maintenance sweep over all orgs: each row is judged only by its own last_seen_at. The
      // session ended when it was last seen, so a later turn (newer than ended_at) reopens it.
      const { rowCount } = await driver.query(
        `UPDATE sessions SET ended_at = last_seen_at, end_reason = 'idle'
         WHERE ended_at IS NULL AND NOT is_placeholder AND last_seen_at < $1`,
        [new Date(now.getTime() - idleMs)],
      )
      return rowCount
    },
    async ping(): Promise<void> {
      await driver.query('SELECT 1')
    },
    close: () => driver.close(),
  }
}

export interface OpenStoreOptions {
  /** A Postgres URL: use that server. Otherwise the embedded PGlite database in dataDir. */
  databaseUrl?: string
  /** Embedded data directory (default ./.sessiontap, chosen by the caller's config). */
  dataDir: string
  /** Connections in the pg pool. */
  poolSize?: number
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const driver = options.databaseUrl
    ? openPgDriver({ url: options.databaseUrl, poolSize: options.poolSize })
    : await openPgliteDriver(options.dataDir)
  try {
    if (options.migrate ?? true) await runMigrations(driver)
  } catch (err) {
    await driver.close()
    throw err
  }
  return createStore(driver)
}
