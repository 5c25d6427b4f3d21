/**
 * Driver over a node-postgres Pool: used when DATABASE_URL points at a real Postgres server.
 */
import pg from 'pg'
import type { Driver, QueryResult, SqlSession, TransactionOptions } from './driver.js'
import { isolationLevelSql } from './driver.js'

export interface PgDriverOptions {
  url: string
  poolSize?: number
}

function sessionOver(client: pg.Pool | pg.PoolClient): SqlSession {
  return {
    async query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await client.query(text, params as unknown[] | undefined)
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
    },
    async exec(sql: string): Promise<void> {
      // Without parameters node-postgres uses the simple protocol, which accepts several statements.
      await client.query(sql)
    },
  }
}

const ignore = (): void => {}

export function openPgDriver(options: PgDriverOptions): Driver {
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 })
  // A client losing its connection (server restart, terminated backend) emits 'error', which would
  // crash the process unheard. The failure still reaches the caller through the rejected query.
  pool.on('error', ignore)
  pool.on('connect', (client) => client.on('error', ignore))
  return {
    kind: 'pg',
    ...sessionOver(pool),
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>, txOptions?: TransactionOptions): Promise<T> {
      const client = await pool.connect()
      let broken: Error | undefined
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolationLevelSql(txOptions)}`)
        const result = await fn(sessionOver(client))
        await client.query('COMMIT')
        return result
      } catch (err) {
        try {
          await client.query('ROLLBACK')
        } catch (rollbackErr) {
          // The connection is unusable: destroy it instead of returning it to the pool.
          broken = rollbackErr as Error
        }
        throw err
      } finally {
        client.release(broken)
      }
    },
    async close(): Promise<void> {
      await pool.end()
    },
  }
}
