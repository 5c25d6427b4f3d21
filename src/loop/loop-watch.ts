/**
 * Connects loop detection to the running sidecar: a recorder commit hook that counts detections the
 * ingest transaction reports and flags their sessions for the request gate. (The start-up load of the
 * sessions flagged before, by any sidecar on the database, is store/loop-flags.ts.)
 */
import { Counter, type Registry } from 'prom-client'
import type { Turn } from '../session/turn.js'
import type { FlaggedSessions } from './flagged-sessions.js'

export function createLoopMetrics(registry: Registry) {
  return {
    detections: new Counter({
      name: 'sessiontap_loop_detections_total',
      help: 'Sessions flagged as looping: runs of three turns with the same request content',
      registers: [registry],
    }),
  }
}

export type LoopMetrics = ReturnType<typeof createLoopMetrics>

/** The recorder's onCommitted hook: every detection is counted once and flags its session. */
export function loopCommitHook(flagged: FlaggedSessions, metrics: LoopMetrics) {
  // Only what the hook reads of the store's IngestResult, so this folder stays below the store.
  return (turn: Turn, result: { loopDetected?: boolean }): void => {
    if (!result.loopDetected) return
    metrics.detections.inc()
    flagged.add(turn.envelope)
  }
}
