/** The subagent threads contract on a real Postgres server. */
import { openStore } from '../../src/store/store.js'
import { startTestPostgres } from '../helpers/postgres.js'
import { registerSubagentThreadsContract } from './subagent-threads.contract.js'

registerSubagentThreadsContract('Postgres', async () => {
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
