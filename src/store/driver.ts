/**
 * The small database interface the store is written against, so one SQL dialect and one store
 * implementation serve both node-postgres (a server) and PGlite (embedded).
 */

export interface QueryResult<R> {
  rows: R[]
  rowCount: number
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable'

/** Something that runs SQL: the driver itself, or a transaction handed out by it. */
export interface SqlSession {
  /** One statement with $1..$n parameters. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>
  /** A parameterless script of one or more statements (migrations). */
  exec(sql: string): Promise<void>
}

export interface TransactionOptions {
  isolation?: IsolationLevel
}

export interface Driver extends SqlSession {
  readonly kind: 'pg' | 'pglite'
  /** Runs fn inside BEGIN/COMMIT; any throw rolls back and is rethrown. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>, options?: TransactionOptions): Promise<T>
  close(): Promise<void>
}

/** The SQL spelling of the requested isolation level (READ COMMITTED by default). */
export function isolationLevelSql(options: TransactionOptions | undefined): string {
  return (options?.isolation ?? 'read committed').toUpperCase()
}
