/** The raw bodies contract on a real Postgres server. */
import { openStore } from '../../src/store/store.js'
import { startTestPostgres } from '../helpers/postgres.js'
import { registerRawBodiesContract } from './raw-bodies.contract.js'

registerRawBodiesContract('Postgres', async () => {
  const pg = await startTestPostgres()
  const store = await openStore({ databaseUrl: pg.url, dataDir: 'unused' })
  return {
    store,
    async cleanup() {
      await store.close()
      await pg.stop()
    },
  }
})
