/** Starts a real sessiontap ext_proc server on a free port, recording every exchange it hands over. */
import type * as grpc from '@grpc/grpc-js'
import { Registry } from 'prom-client'
import { createExtProcClient } from '../../src/emulator/client.js'
import type { Exchange, ExchangeConsumer } from '../../src/exchange.js'
import { createExtProcMetrics, type ExtProcMetrics } from '../../src/extproc/metrics.js'
import { type ExtProcServer, startExtProcServer } from '../../src/extproc/server.js'
import type { StreamOptions } from '../../src/extproc/stream.js'
import { silentLogger } from '../../src/log.js'

export interface TestServer {
  server: ExtProcServer
  client: grpc.Client
  exchanges: Exchange[]
  metrics: ExtProcMetrics
  /** Resolves once `n` exchanges have been handed to the consumer. */
  waitForExchanges(n: number, timeoutMs?: number): Promise<Exchange[]>
  /** The server's open streams once they reach 0, or after the timeout (a stream it never closed). */
  activeStreamsSettled(timeoutMs?: number): Promise<number>
  close(): Promise<void>
}

export async function startTestServer(
  options: {
    captureMaxBytes?: number
    stripHeaderPrefix?: string
    consumer?: ExchangeConsumer
    requestGate?: StreamOptions['requestGate']
  } = {},
): Promise<TestServer> {
  const exchanges: Exchange[] = []
  const waiters: Array<() => void> = []
  const metrics = createExtProcMetrics(new Registry())
  const consumer: ExchangeConsumer = options.consumer ?? {
    consume(exchange) {
      exchanges.push(exchange)
      for (const w of waiters.splice(0)) w()
    },
  }
  const server = await startExtProcServer(
    {
      address: '127.0.0.1:0',
      captureMaxBytes: options.captureMaxBytes ?? 32 * 1024 * 1024,
      stripHeaderPrefix: options.stripHeaderPrefix ?? 'x-tapes-',
      requestGate: options.requestGate,
    },
    { consumer, metrics, logger: silentLogger },
  )
  const client = createExtProcClient(server.address)
  return {
    server,
    client,
    exchanges,
    metrics,
    async waitForExchanges(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (exchanges.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} exchanges, got ${exchanges.length}`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 50)
        })
      }
      return exchanges
    },
    async activeStreamsSettled(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (server.activeStreams > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      return server.activeStreams
    },
    async close() {
      client.close()
      await server.shutdown(1000)
    },
  }
}
