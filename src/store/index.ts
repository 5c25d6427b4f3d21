/**
 * The store's public surface for the recorder and the CLI.
 */
export { DataDirLockedError } from './data-dir-lock.js'
export type { Driver, IsolationLevel, QueryResult, SqlSession, TransactionOptions } from './driver.js'
export { classifyStoreError, type StoreErrorClass } from './errors.js'
export type { IngestResult } from './ingest.js'
export { MigrationChecksumError, runMigrations } from './migrate.js'
export {
  createStore,
  type IngestItem,
  type OpenStoreOptions,
  openStore,
  type Store,
  type StoreOptions,
} from './store.js'
