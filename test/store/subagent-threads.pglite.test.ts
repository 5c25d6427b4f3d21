/** The subagent threads contract on embedded PGlite. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { openStore } from '../../src/store/store.js'
import { registerSubagentThreadsContract } from './subagent-threads.contract.js'

registerSubagentThreadsContract('PGlite', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-pglite-'))
  const store = await openStore({ dataDir })
  return {
    store,
    async cleanup() {
      await store.close()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
})
