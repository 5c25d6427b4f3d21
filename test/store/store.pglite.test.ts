/**
 * The store and batch contracts on embedded PGlite, opened through openStore like the CLI does.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openStore } from '../../src/store/store.js'
import { registerBatchContract } from './batch.contract.js'
import { registerPreviousResponseContract } from './previous-response.contract.js'
import { registerStoreContract, type StoreHandle } from './store.contract.js'

async function open(): Promise<StoreHandle> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-pglite-'))
  const store = await openStore({ dataDir })
  return {
    store,
    async cleanup() {
      await store.close()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

registerStoreContract('PGlite', open)
registerBatchContract('PGlite', open)
registerPreviousResponseContract('PGlite', open)
