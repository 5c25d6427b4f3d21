/** The sessions loop detection flagged (sessions.loop_detected_at), for the request gate to load at start. */
import type { SessionKey } from '../session/turn.js'
import type { SqlSession } from './driver.js'

/** The `limit` most recently flagged sessions of every org, oldest first. */
export async function recentlyFlaggedSessions(db: SqlSession, limit: number): Promise<SessionKey[]> {
  const { rows } = await db.query<{ harness_id: string; harness_session_id: string }>(
    `SELECT harness_id, harness_session_id FROM sessions
     WHERE loop_detected_at IS NOT NULL
     ORDER BY loop_detected_at DESC LIMIT $1`,
    [limit],
  )
  return rows
    .reverse()
    .map((row) => ({ harnessId: row.harness_id, harnessSessionId: row.harness_session_id }))
}
