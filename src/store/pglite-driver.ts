/**
 * Driver over embedded PGlite (Postgres compiled to WASM), the zero-setup default. The data lives
 * in <dataDir>/pgdata, guarded by an exclusive lock file in <dataDir>. PGlite itself runs on a worker
 * thread (pglite-worker.ts): its statements run synchronously, and on the main thread every commit
 * held up the replies to Envoy. This side only posts requests and settles their promises.
 */
import path from 'node:path'
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../worker-entry.js'
import { acquireDataDirLock } from './data-dir-lock.js'
import type { Driver, QueryResult, SqlSession, TransactionOptions } from './driver.js'
import { isolationLevelSql } from './driver.js'
import {
  fromWireError,
  type PgliteReady,
  type PgliteReply,
  type PgliteRequest,
  type WireError,
} from './pglite-protocol.js'

/** The embedded driver; `worker` is the thread PGlite runs on (tests end it to see a crash handled). */
export interface PgliteDriver extends Driver {
  readonly worker: Worker
}

/** SQLSTATE connection_failure: the recorder classes it retryable and spools, as for a lost server. */
const WORKER_GONE_CODE = '08006'

function spawnWorker(pgdata: string): Worker {
  return startWorker(import.meta.url, 'pglite-worker', { workerData: { pgdata } })
}

/** Resolves once PGlite is open in the worker; rejects with its error, or if the worker dies first. */
function whenReady(worker: Worker, pgdata: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`embedded database worker exited with code ${code} while opening`))
    worker.once('error', reject)
    worker.once('exit', onExit)
    worker.once('message', (message: PgliteReady) => {
      worker.off('error', reject)
      worker.off('exit', onExit)
      if (message.ready) return resolve()
      const err = fromWireError(message.error)
      err.message = `cannot open the embedded database in ${pgdata}: ${err.message}`
      reject(err)
    })
  })
}

/** A request before its id is given (Omit applied to each member of the union). */
type Unnumbered<R> = R extends unknown ? Omit<R, 'id'> : never

export async function openPgliteDriver(dataDir: string): Promise<PgliteDriver> {
  const lock = acquireDataDirLock(dataDir)
  const pgdata = path.join(dataDir, 'pgdata')
  const worker = spawnWorker(pgdata)
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  try {
    await whenReady(worker, pgdata)
  } catch (err) {
    await worker.terminate()
    lock.release()
    throw err
  }

  const pending = new Map<
    number,
    { resolve(result: QueryResult<unknown> | undefined): void; reject(err: Error): void }
  >()
  let nextId = 1
  /** Set once the worker is gone: every later request fails with it. */
  let gone: Error | undefined
  let failure: string | undefined

  worker.on('message', (reply: PgliteReply) => {
    const waiter = pending.get(reply.id)
    if (!waiter) return
    pending.delete(reply.id)
    // An idle worker does not keep the process alive, as the in-thread PGlite did not.
    if (pending.size === 0) worker.unref()
    if (reply.ok) waiter.resolve(reply.result)
    else waiter.reject(fromWireError(reply.error))
  })
  // Without an 'error' listener an uncaught exception in the worker would crash this process.
  worker.on('error', (err) => {
    failure = err.message
  })
  worker.on('exit', (code) => {
    const wire: WireError = {
      name: 'Error',
      message: `embedded database worker exited (${failure ?? `code ${code}`}); restart sessiontap`,
      fields: { code: WORKER_GONE_CODE },
    }
    gone = fromWireError(wire)
    for (const waiter of pending.values()) waiter.reject(fromWireError(wire))
    pending.clear()
  })
  worker.unref()

  function request(
    message: Unnumbered<PgliteRequest>,
    id = nextId++,
  ): Promise<QueryResult<unknown> | undefined> {
    if (gone) return Promise.reject(gone)
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      worker.ref()
      worker.postMessage({ ...message, id })
    })
  }

  const sessionIn = (tx: number | undefined): SqlSession => ({
    async query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      return (await request({ op: 'query', tx, text, params })) as QueryResult<R>
    },
    async exec(sql: string): Promise<void> {
      await request({ op: 'exec', tx, sql })
    },
  })

  return {
    kind: 'pglite',
    worker,
    ...sessionIn(undefined),
    // PGlite runs one transaction at a time (its own mutex), so READ COMMITTED here already behaves
    // like SERIALIZABLE; the level is still set so the SQL means the same on both drivers.
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>, options?: TransactionOptions): Promise<T> {
      const tx = nextId++
      await request({ op: 'begin', isolation: isolationLevelSql(options) }, tx)
      let result: T
      try {
        result = await fn(sessionIn(tx))
      } catch (err) {
        // The caller's error is the one to see; a failed rollback is lost with the worker anyway.
        await request({ op: 'end', tx, commit: false }).catch(() => {})
        throw err
      }
      await request({ op: 'end', tx, commit: true })
      return result
    },
    async close(): Promise<void> {
      try {
        if (!gone) await request({ op: 'close' })
      } finally {
        await worker.terminate()
        await exited
        lock.release()
      }
    },
  }
}
