/**
 * The admin HTTP server with the read API and the session page mounted, as `serve` mounts them,
 * over a given store and token list: for the API and page tests.
 */
import { Registry } from 'prom-client'
import { startAdminServer } from '../../src/admin/http.js'
import { createReadApiRoute } from '../../src/api/routes.js'
import type { ApiToken } from '../../src/http/tokens.js'
import { silentLogger } from '../../src/log.js'
import type { Store } from '../../src/store/store.js'
import { createSessionPageRoute } from '../../src/web/routes.js'

export interface ReadServer {
  baseUrl: string
  close(): Promise<void>
}

export async function startReadServer(store: Store, tokens: ApiToken[]): Promise<ReadServer> {
  const options = { driver: store.driver, tokens, logger: silentLogger }
  const server = await startAdminServer({
    address: '127.0.0.1:0',
    registry: new Registry(),
    ready: async () => {},
    logger: silentLogger,
    routes: [createReadApiRoute(options), createSessionPageRoute(options)],
  })
  return { baseUrl: `http://${server.address}`, close: () => server.close() }
}
