/**
 * Driver over embedded PGlite (Postgres compiled to WASM), the zero-setup default. The data lives
 * in <dataDir>/pgdata, guarded by an exclusive lock file in <dataDir>.
 */
import path from 'node:path'
import { PGlite, type Transaction } from '@electric-sql/pglite'
import { acquireDataDirLock } from './data-dir-lock.js'
import type { Driver, QueryResult, SqlSession, TransactionOptions } from './driver.js'
import { isolationLevelSql } from './driver.js'

function sessionOver(db: PGlite | Transaction): SqlSession {
  return {
    async query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await db.query<R>(text, params as unknown[] | undefined)
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql)
    },
  }
}

export async function openPgliteDriver(dataDir: string): Promise<Driver> {
  const lock = acquireDataDirLock(dataDir)
  let db: PGlite
  try {
    db = await PGlite.create(path.join(dataDir, 'pgdata'))
  } catch (err) {
    lock.release()
    throw err
  }
  return {
    kind: 'pglite',
    ...sessionOver(db),
    // PGlite runs one transaction at a time (its own mutex), so READ COMMITTED here already behaves
    // like SERIALIZABLE; the level is still set so the SQL means the same on both drivers.
    transaction<T>(fn: (tx: SqlSession) => Promise<T>, options?: TransactionOptions): Promise<T> {
      return db.transaction(async (tx) => {
        await tx.query(`SET TRANSACTION ISOLATION LEVEL ${isolationLevelSql(options)}`)
        return fn(sessionOver(tx))
      })
    },
    async close(): Promise<void> {
      try {
        await db.close()
      } finally {
        lock.release()
      }
    },
  }
}
