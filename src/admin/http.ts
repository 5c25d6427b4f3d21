/**
 * The admin HTTP server: liveness, readiness and Prometheus metrics. Extra routes (the read API) are
 * passed in by the caller; this module knows nothing about them.
 */
import http from 'node:http'
import type { Registry } from 'prom-client'
import type { RouteHandler } from '../http/org-route.js'
import { sendJson } from '../http/respond.js'
import type { Logger } from '../log.js'

export interface AdminServer {
  readonly address: string
  close(): Promise<void>
}

export async function startAdminServer(options: {
  address: string
  registry: Registry
  /** Resolves when the process can do its job (gRPC bound, database reachable); rejects with why not. */
  ready: () => Promise<void>
  logger: Logger
  /** Tried in order before the built-in routes; a handler returns true when it answered. */
  routes?: RouteHandler[]
}): Promise<AdminServer> {
  const server = http.createServer(async (req, res) => {
    try {
      for (const route of options.routes ?? []) if (await route(req, res)) return
      const path = (req.url ?? '/').split('?')[0]
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendJson(res, 405, { error: 'method not allowed' })
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' })
      if (path === '/readyz') {
        try {
          await options.ready()
          return sendJson(res, 200, { status: 'ready' })
        } catch (err) {
          return sendJson(res, 503, { status: 'not ready', reason: (err as Error).message })
        }
      }
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': options.registry.contentType })
        res.end(await options.registry.metrics())
        return
      }
      sendJson(res, 404, { error: 'not found' })
    } catch (err) {
      options.logger.error('admin request failed', { err, path: req.url })
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' })
      else res.destroy()
    }
  })
  const at = options.address.lastIndexOf(':')
  const host = options.address.slice(0, at).replace(/^\[|\]$/g, '')
  const port = Number(options.address.slice(at + 1))
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${options.address}: ${err.message}`)))
    server.listen(port, host, () => resolve())
  })
  const bound = server.address()
  const address = typeof bound === 'object' && bound ? `${host}:${bound.port}` : options.address
  options.logger.info('admin HTTP server listening', { address })
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
