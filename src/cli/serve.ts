/**
 * `sessiontap serve`: the sidecar. Opens the store (embedded by default), starts the recorder, the
 * ext_proc gRPC server and the admin HTTP server, and shuts down gracefully on SIGTERM/SIGINT.
 */

import { startAdminServer } from '../admin/http.js'
import { createMetrics } from '../admin/metrics.js'
import type { ServeConfig } from '../config/load.js'
import type { ExchangeConsumer } from '../extproc/exchange.js'
import { startExtProcServer } from '../extproc/server.js'
import { createLogger, type Logger } from '../log.js'

export interface RunningSidecar {
  grpcAddress: string
  httpAddress: string
  /** Stops everything; resolves when the process may exit. */
  stop(reason: string): Promise<void>
}

export async function startSidecar(
  config: ServeConfig,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningSidecar> {
  const metrics = createMetrics()
  // Until the recorder lands, exchanges are logged; the consumer is the seam where it plugs in.
  const consumer: ExchangeConsumer = {
    consume(exchange) {
      logger.debug('exchange captured', {
        requestId: exchange.requestId,
        path: exchange.request.path,
        status: exchange.response?.status,
        ending: exchange.ending,
      })
    },
  }
  const extproc = await startExtProcServer(
    {
      address: config.grpcAddress,
      captureMaxBytes: config.captureMaxBytes,
      stripHeaderPrefix: config.stripEnvelopeHeaders ? 'x-tapes-' : undefined,
    },
    { consumer, metrics, logger },
  )
  let stopping = false
  const admin = await startAdminServer({
    address: config.httpAddress,
    registry: metrics.registry,
    logger,
    ready: async () => {
      if (stopping) throw new Error('shutting down')
    },
  })
  return {
    grpcAddress: extproc.address,
    httpAddress: admin.address,
    async stop(reason) {
      if (stopping) return
      stopping = true
      logger.info('shutting down', { reason, activeStreams: extproc.activeStreams })
      const { forced } = await extproc.shutdown(config.shutdownTimeoutMs)
      if (forced) logger.warn('in-flight exchanges cancelled at the shutdown deadline')
      await admin.close()
      logger.info('stopped')
    },
  }
}

export async function serveCommand(config: ServeConfig): Promise<number> {
  const logger = createLogger(config.logLevel)
  const sidecar = await startSidecar(config, logger)
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      sidecar.stop(signal).then(resolve, (err) => {
        logger.error('shutdown failed', { err })
        resolve()
      })
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  })
  return 0
}
