/**
 * Entry of the thread that owns the embedded database. PGlite runs Postgres synchronously inside
 * WASM: here a long statement or commit holds up this thread only, not the one that answers Envoy.
 * Requests come from pglite-driver.ts; a transaction stays open in here until its end request.
 */

import { parentPort, workerData } from 'node:worker_threads'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import type { QueryResult } from './driver.js'
import { type PgliteReady, type PgliteReply, type PgliteRequest, toWireError } from './pglite-protocol.js'

interface OpenTransaction {
  tx: Transaction
  /** Settles the transaction's callback (true commits); the outcome answers request endId. */
  end(commit: boolean, endId: number): void
}

const port = parentPort!
const post = (message: PgliteReply | PgliteReady) => port.postMessage(message)

/** Thrown inside db.transaction so PGlite rolls back; the caller's own error stays on the main side. */
const ROLLBACK = Symbol('rollback')

type Statement = Extract<PgliteRequest, { op: 'query' | 'exec' }>

async function run(db: PGlite | Transaction, request: Statement): Promise<QueryResult<unknown> | undefined> {
  if (request.op === 'exec') {
    await db.exec(request.sql)
    return undefined
  }
  const result = await db.query(request.text, request.params as unknown[] | undefined)
  return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
}

let db: PGlite
try {
  db = await PGlite.create((workerData as { pgdata: string }).pgdata)
} catch (err) {
  post({ ready: false, error: toWireError(err) })
  process.exit(1)
}
const open = new Map<number, OpenTransaction>()

/**
 * Answers the begin request once the transaction is open, and the end request once PGlite has
 * committed or rolled back; a failure before the transaction opened answers the begin request.
 */
function begin(id: number, isolation: string): void {
  let replyTo = id
  db.transaction(async (tx) => {
    await tx.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`)
    const commit = await new Promise<boolean>((resolve) => {
      open.set(id, {
        tx,
        end(commit, endId) {
          replyTo = endId
          resolve(commit)
        },
      })
      post({ id, ok: true })
    })
    if (!commit) throw ROLLBACK
  }).then(
    () => post({ id: replyTo, ok: true }),
    (err) =>
      post(
        err === ROLLBACK ? { id: replyTo, ok: true } : { id: replyTo, ok: false, error: toWireError(err) },
      ),
  )
}

const noTransaction = (id: number, tx: number): PgliteReply => ({
  id,
  ok: false,
  error: toWireError(new Error(`no open transaction ${tx}`)),
})

port.on('message', (request: PgliteRequest) => {
  if (request.op === 'begin') return begin(request.id, request.isolation)
  if (request.op === 'close') {
    db.close().then(
      () => post({ id: request.id, ok: true }),
      (err) => post({ id: request.id, ok: false, error: toWireError(err) }),
    )
    return
  }
  if (request.op === 'end') {
    const transaction = open.get(request.tx)
    open.delete(request.tx)
    if (transaction) transaction.end(request.commit, request.id)
    else post(noTransaction(request.id, request.tx))
    return
  }
  const target = request.tx === undefined ? db : open.get(request.tx)?.tx
  if (!target) return post(noTransaction(request.id, request.tx!))
  run(target, request).then(
    (result) => post(result ? { id: request.id, ok: true, result } : { id: request.id, ok: true }),
    (err) => post({ id: request.id, ok: false, error: toWireError(err) }),
  )
})
post({ ready: true })
