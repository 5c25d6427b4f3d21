/**
 * The read queries on a real Postgres server (see test/helpers/postgres.ts for which one).
 */
import { openStore } from '../../src/store/store.js'
import { startTestPostgres } from '../helpers/postgres.js'
import { registerQueriesContract } from './queries.contract.js'

registerQueriesContract('Postgres', async () => {
  const pg = await startTestPostgres()
  const store = await openStore({ databaseUrl: pg.url, dataDir: 'unused', poolSize: 8 })
  return {
    store,
    async cleanup() {
      await store.close()
      await pg.stop()
    },
  }
})
