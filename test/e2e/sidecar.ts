/** The whole sidecar in-process (what `sessiontap serve` runs) on a test database and free ports. */

import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type RunningSidecar, startSidecar } from '../../src/cli/serve.js'
import { loadServeConfig } from '../../src/config/load.js'
import { type Logger, silentLogger } from '../../src/log.js'

export async function startTestSidecar(
  databaseUrl: string,
  env: Record<string, string> = {},
  logger: Logger = silentLogger,
): Promise<RunningSidecar> {
  const config = loadServeConfig(new Map(), {
    DATABASE_URL: databaseUrl,
    SESSIONTAP_GRPC_ADDRESS: '127.0.0.1:0',
    SESSIONTAP_HTTP_ADDRESS: '127.0.0.1:0',
    SESSIONTAP_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'sessiontap-e2e-')),
    SESSIONTAP_PARSE_WORKERS: '1',
    ...env,
  })
  return startSidecar(config, logger)
}
