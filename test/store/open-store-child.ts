/**
 * Child process for the lock test: tries to open the embedded store in argv[2] and prints the
 * outcome as one JSON line.
 */
import { openStore } from '../../src/store/store.js'

const dataDir = process.argv[2]!
try {
  const store = await openStore({ dataDir })
  await store.close()
  console.log(JSON.stringify({ opened: true }))
} catch (err) {
  console.log(JSON.stringify({ opened: false, name: (err as Error).name, message: (err as Error).message }))
}
