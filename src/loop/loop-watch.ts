/**
 * Connects loop detection to the running sidecar: a recorder commit hook that counts detections the
 * ingest transaction reports and flags their sessions for the request gate, and the start-up load of
 * the sessions flagged before (by any sidecar on the database).
 */
import { Counter, type Registry } from 'prom-client'
import type { Turn } from '../session/turn.js'
import type { IngestResult, SqlSession } from '../store/index.js'
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
  return (turn: Turn, result: IngestResult): void => {
    if (!result.loopDetected) return
    metrics.detections.inc()
    flagged.add(turn.envelope)
  }
}

/** Loads the most recently flagged sessions (up to the set's capacity); returns how many. */
export async function loadFlaggedSessions(db: SqlSession, flagged: FlaggedSessions): Promise<number> {
  const { rows } = await db.query<{ harness_id: string; harness_session_id: string }>(
    `SELECT harness_id, harness_session_id FROM sessions
     WHERE loop_detected_at IS NOT NULL
     ORDER BY loop_detected_at DESC LIMIT $1`,
    [flagged.capacity],
  )
  // Oldest first, so the newest flags are the last the bounded set would evict.
  for (const row of rows.reverse()) {
    flagged.add({ harnessId: row.harness_id, harnessSessionId: row.harness_session_id })
  }
  return rows.length
}
