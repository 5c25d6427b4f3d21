/** The ext_proc server's Prometheus metrics (sessiontap_extproc_*, sessiontap_exchanges_*), on the registry it is given. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export function createExtProcMetrics(registry: Registry) {
  const registers = [registry]
  return {
    streams: new Counter({
      name: 'sessiontap_extproc_streams_total',
      help: 'ext_proc streams opened',
      registers,
    }),
    connections: new Counter({
      name: 'sessiontap_extproc_connections_total',
      help: 'TCP connections accepted on the ext_proc port (a steady rise means Envoy keeps reconnecting)',
      registers,
    }),
    streamsActive: new Gauge({
      name: 'sessiontap_extproc_streams_active',
      help: 'ext_proc streams currently open',
      registers,
    }),
    streamEndings: new Counter({
      name: 'sessiontap_extproc_stream_endings_total',
      help: 'ext_proc streams by how the exchange ended (complete, no_response, reset)',
      labelNames: ['ending'],
      registers,
    }),
    messages: new Counter({
      name: 'sessiontap_extproc_messages_total',
      help: 'ext_proc messages received, by type',
      labelNames: ['type'],
      registers,
    }),
    replySeconds: new Histogram({
      name: 'sessiontap_extproc_reply_seconds',
      help: 'Time from receiving an ext_proc message to writing its reply, by type',
      labelNames: ['type'],
      buckets: [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    }),
    bodyBytes: new Counter({
      name: 'sessiontap_extproc_body_bytes_total',
      help: 'Body bytes received from Envoy, by direction',
      labelNames: ['direction'],
      registers,
    }),
    exchangesCaptured: new Counter({
      name: 'sessiontap_exchanges_captured_total',
      help: 'Exchanges captured and handed to the recorder',
      registers,
    }),
    exchangesDropped: new Counter({
      name: 'sessiontap_exchanges_dropped_total',
      help: 'Exchanges not captured or not recorded, by reason',
      labelNames: ['reason'],
      registers,
    }),
  }
}

export type ExtProcMetrics = ReturnType<typeof createExtProcMetrics>
