/**
 * The gRPC server: Envoy's ExternalProcessor service plus grpc.health.v1.Health, bound on one
 * address, with a graceful shutdown that lets in-flight exchanges finish within a deadline.
 */
import * as grpc from '@grpc/grpc-js'
import type { ExchangeConsumer } from '../exchange.js'
import { createRateLimitedLog, type Logger } from '../log.js'
import { listenExtProc } from './listener.js'
import type { ProcessingRequest, ProcessingResponse } from './messages.js'
import type { ExtProcMetrics } from './metrics.js'
import { loadProtos, MAX_GRPC_MESSAGE_BYTES } from './proto.js'
import { liftResetGuard } from './reset-guard.js'
import { handleProcessStream, type StreamOptions, UNDECODABLE } from './stream.js'

/** PEM bytes of the server's certificate chain and key; with `clientCa`, clients must present a certificate it signed (mTLS). */
export interface ExtProcTls {
  cert: Buffer
  key: Buffer
  clientCa?: Buffer
}

export interface ExtProcServerOptions extends StreamOptions {
  /** host:port; port 0 picks a free one. */
  address: string
  /** Absent: h2c (plaintext), for Envoy on the same host or pod. */
  tls?: ExtProcTls
}

function serverCredentials(tls: ExtProcTls | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure()
  return grpc.ServerCredentials.createSsl(
    tls.clientCa ?? null,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.clientCa !== undefined,
  )
}

export interface ExtProcServer {
  /** The bound address (with the real port when 0 was asked for). */
  readonly address: string
  readonly activeStreams: number
  /** Stops accepting streams, waits up to `deadlineMs` for open ones, then cancels the rest. */
  shutdown(deadlineMs: number): Promise<{ forced: boolean }>
}

type HealthStatus = 'SERVING' | 'NOT_SERVING'

export async function startExtProcServer(
  options: ExtProcServerOptions,
  deps: { consumer: ExchangeConsumer; metrics: ExtProcMetrics; logger: Logger },
): Promise<ExtProcServer> {
  const protos = loadProtos()
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  })
  let active = 0
  let health: HealthStatus = 'SERVING'
  const badInput = createRateLimitedLog(deps.logger)
  const watchers = new Set<grpc.ServerWritableStream<unknown, { status: HealthStatus }>>()

  // A message that does not decode is handed to the stream (which counts it and closes its connection)
  // instead of grpc-js failing the stream silently.
  const process = protos.extProc.service.Process!
  const processService = {
    ...protos.extProc.service,
    Process: {
      ...process,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return process.requestDeserialize(bytes)
        } catch {
          return UNDECODABLE
        }
      },
    },
  }
  let closePeer = (_peer: string) => {}
  server.addService(processService, {
    Process: (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
      active++
      handleProcessStream(call, { ...deps, badInput, options, closePeer }, () => {
        active--
      })
    },
  })
  server.addService(protos.health.service, {
    Check: (_call: unknown, callback: grpc.sendUnaryData<{ status: HealthStatus }>) =>
      callback(null, { status: health }),
    Watch: (call: grpc.ServerWritableStream<unknown, { status: HealthStatus }>) => {
      call.write({ status: health })
      watchers.add(call)
      call.on('cancelled', () => watchers.delete(call))
    },
  })

  const resetGuard = liftResetGuard(server)
  const listener = await listenExtProc(server, options.address, serverCredentials(options.tls), () =>
    deps.metrics.connections.inc(),
  ).catch((err: Error) => {
    throw new Error(`cannot listen on ${options.address}: ${err.message}`)
  })
  closePeer = (peer) => listener.closePeer(peer)
  const port = listener.port
  const host = options.address.slice(0, options.address.lastIndexOf(':'))
  const address = `${host}:${port}`
  deps.logger.info('ext_proc server listening', {
    address,
    transport: options.tls ? (options.tls.clientCa ? 'mtls' : 'tls') : 'h2c',
    resetGuard,
  })

  return {
    address,
    get activeStreams() {
      return active
    },
    async shutdown(deadlineMs) {
      health = 'NOT_SERVING'
      for (const w of watchers) {
        w.write({ status: health })
        w.end()
      }
      listener.close()
      const graceful = new Promise<boolean>((resolve) => server.tryShutdown(() => resolve(false)))
      const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(true), deadlineMs).unref())
      const forced = await Promise.race([graceful, timer])
      if (forced) server.forceShutdown()
      return { forced }
    },
  }
}
