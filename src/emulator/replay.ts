/**
 * Replays many exchanges through an ext_proc server with bounded concurrency, each with its own
 * chunking seed, and summarises what happened: violations, local replies, reply-latency percentiles.
 */
import type * as grpc from '@grpc/grpc-js'
import type { RequestKind } from '../extproc/messages.js'
import { runExchange } from './emulator.js'
import {
  type EmulatedExchange,
  type EmulatorStats,
  emptyStats,
  type FilterConfig,
  type HttpExchangeSpec,
} from './types.js'

export interface LatencySummary {
  count: number
  p50: number
  p99: number
  p999: number
  max: number
}

export interface ReplaySummary {
  exchanges: number
  localReplies: number
  violations: number
  /** The first violations, prefixed with the exchange name. */
  violationSamples: string[]
  /** Reply latency in milliseconds, per message type and for all messages. */
  latency: Partial<Record<RequestKind | 'all', LatencySummary>>
  stats: EmulatorStats
  durationMs: number
}

export interface ReplayOptions {
  concurrency: number
  repeat: number
  /** The request id of an exchange, from its spec and repetition (0-based); fresh ids when absent. */
  requestId?: (spec: HttpExchangeSpec, repetition: number) => string
  /** Called with every finished exchange (tests compare bodies). */
  onExchange?: (spec: HttpExchangeSpec, result: EmulatedExchange) => void
}

export async function replay(
  client: grpc.Client,
  cfg: FilterConfig,
  specs: readonly HttpExchangeSpec[],
  options: ReplayOptions,
): Promise<ReplaySummary> {
  const stats = emptyStats()
  const jobs: HttpExchangeSpec[] = []
  for (let r = 0; r < options.repeat; r++) {
    for (const spec of specs)
      jobs.push(options.requestId ? { ...spec, requestId: options.requestId(spec, r) } : spec)
  }
  const latencies: Partial<Record<RequestKind | 'all', number[]>> = { all: [] }
  const summary: ReplaySummary = {
    exchanges: 0,
    localReplies: 0,
    violations: 0,
    violationSamples: [],
    latency: {},
    stats,
    durationMs: 0,
  }
  const started = performance.now()
  let next = 0
  const baseSeed = cfg.chunking.kind === 'random' ? cfg.chunking.seed : 0
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++
      const spec = jobs[index]!
      const chunking =
        cfg.chunking.kind === 'random' ? { ...cfg.chunking, seed: baseSeed + index } : cfg.chunking
      const result = await runExchange(client, { ...cfg, chunking }, spec, stats)
      summary.exchanges++
      if (result.localReply) summary.localReplies++
      summary.violations += result.violations.length
      for (const v of result.violations) {
        if (summary.violationSamples.length < 20) summary.violationSamples.push(`${spec.name ?? index}: ${v}`)
      }
      for (const l of result.latencies) {
        latencies[l.type] ??= []
        latencies[l.type]!.push(l.ms)
        latencies.all!.push(l.ms)
      }
      options.onExchange?.(spec, result)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker))
  summary.durationMs = performance.now() - started
  for (const [type, values] of Object.entries(latencies)) {
    if (values.length > 0) summary.latency[type as RequestKind | 'all'] = summarize(values)
  }
  return summary
}

export function summarize(values: number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0
  return {
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted[sorted.length - 1] ?? 0,
  }
}

export function formatSummary(s: ReplaySummary): string {
  const lines = [
    `exchanges: ${s.exchanges}  violations: ${s.violations}  local replies: ${s.localReplies}  streams failed: ${s.stats.streams_failed}  message timeouts: ${s.stats.message_timeouts}  duration: ${(s.durationMs / 1000).toFixed(2)} s`,
    'reply latency (ms)        count      p50      p99    p99.9      max',
  ]
  for (const [type, l] of Object.entries(s.latency)) {
    lines.push(
      `  ${type.padEnd(22)} ${String(l.count).padStart(7)} ${l.p50.toFixed(3).padStart(8)} ${l.p99.toFixed(3).padStart(8)} ${l.p999.toFixed(3).padStart(8)} ${l.max.toFixed(3).padStart(8)}`,
    )
  }
  for (const v of s.violationSamples) lines.push(`  violation: ${v}`)
  return lines.join('\n')
}
