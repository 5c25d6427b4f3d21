/**
 * The server under test: the whole sessiontap sidecar (ext_proc server, recorder with its parse
 * workers, store, admin HTTP) configured from the environment exactly as `sessiontap serve` is,
 * in a process of its own, plus the IPC stats the orchestrator reads. Run as a child of bench/run.ts.
 */
import { startSidecar } from '../src/cli/serve.js'
import { loadServeConfig } from '../src/config/load.js'
import { serveStats } from './child-stats.js'

const sidecar = await startSidecar(loadServeConfig(new Map(), process.env))
serveStats({ address: sidecar.grpcAddress, httpAddress: sidecar.httpAddress }, () => sidecar.stop('bench'))
