/**
 * Every reason an exchange does not become a committed turn, in one vocabulary: the label values of
 * sessiontap_recorder_dropped_total. Each stage owns its list; this module joins them into one type.
 */
import { POOL_DROP_REASONS } from './parse-protocol.js'
import { BUILD_DROP_REASONS } from './turn-builder.js'

/** The recorder's own reasons, besides buildTurn's and the parse pool's. */
export const RECORDER_DROP_REASONS = [
  'shutting_down', // handed over after the drain deadline
  'spool_write_failed', // the spool file could not be written (disk full, permissions)
  'consume_failed', // a bug before the exchange reached the parse pool
] as const

export const DROP_REASONS = [...BUILD_DROP_REASONS, ...POOL_DROP_REASONS, ...RECORDER_DROP_REASONS] as const
export type DropReason = (typeof DROP_REASONS)[number]

/** Drop details that may quote body bytes (JSON.parse messages do) are cut to their prefix. */
export function loggableDetail(reason: DropReason, detail: string | undefined): string | undefined {
  return reason === 'request_parse' ? detail?.split(':')[0] : detail
}
