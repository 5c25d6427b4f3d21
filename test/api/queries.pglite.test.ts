/**
 * The read queries on embedded PGlite, the default database, so the same SQL serves both.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openStore } from '../../src/store/store.js'
import { registerQueriesContract } from './queries.contract.js'

registerQueriesContract('PGlite', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-queries-'))
  const store = await openStore({ dataDir })
  return {
    store,
    async cleanup() {
      await store.close()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
})
