/** Messages between the parse pool and its worker threads, and the pool's own drop reasons. */
import type { Exchange } from '../exchange.js'
import type { TurnBuildResult } from './turn-builder.js'

/** Why the pool could not build a turn (buildTurn's own reasons are BUILD_DROP_REASONS). */
export const POOL_DROP_REASONS = [
  'build_failed', // buildTurn threw: a bug in a parser
  'worker_crashed', // the worker died with the exchange in flight
  'parse_timeout', // the worker took too long and was replaced
  'parse_backlog', // too many bytes waiting for a worker
  'pool_closed', // handed over after shutdown began
] as const
export type PoolDropReason = (typeof POOL_DROP_REASONS)[number]

/**
 * A worker's result carries `encodedNodes` (node-records.ts): the nodes' content is encoded there and
 * left out of `turn.nodes`, so the main thread neither deserializes nor stringifies it.
 */
export type ParseResult =
  | (TurnBuildResult & { encodedNodes?: Uint8Array })
  | { ok: false; reason: PoolDropReason; detail?: string }

export interface ParseJob {
  id: number
  exchange: Exchange
}

export interface ParseReply {
  id: number
  result: ParseResult
}
