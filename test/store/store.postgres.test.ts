/**
 * The store and batch contracts on a real Postgres server (see test/helpers/postgres.ts for which one).
 */
import { openStore } from '../../src/store/store.js'
import { startTestPostgres } from '../helpers/postgres.js'
import { registerBatchContract } from './batch.contract.js'
import { registerPreviousResponseContract } from './previous-response.contract.js'
import { registerStoreContract, type StoreHandle } from './store.contract.js'

async function open(): Promise<StoreHandle> {
  const pg = await startTestPostgres()
  const store = await openStore({ databaseUrl: pg.url, dataDir: 'unused', poolSize: 8 })
  return {
    store,
    async cleanup() {
      await store.close()
      await pg.stop()
    },
  }
}

registerStoreContract('Postgres', open)
registerBatchContract('Postgres', open)
registerPreviousResponseContract('Postgres', open)
