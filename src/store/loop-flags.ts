/** The sessions loop detection flagged (sessions.loop_detected_at), for the request gate to load at start. */
import type { FlaggedKey } from '../loop/flagged-sessions.js'
import type { SqlSession } from './driver.js'

/** The `limit` most recently flagged sessions of every org, oldest first. */
export async function recentlyFlaggedSessions(db: SqlSession, limit: number): Promise<FlaggedKey[]> {
  const { rows } = await db.query<{ org_id: string; harness_id: string; harness_session_id: string }>(
    `SELECT org_id, harness_id, harness_session_id FROM sessions
     WHERE loop_detected_at IS NOT NULL
     ORDER BY loop_detected_at DESC LIMIT $1`,
    [limit],
  )
  return rows.reverse().map((row) => ({
    orgId: row.org_id,
    harnessId: row.harness_id,
    harnessSessionId: row.harness_session_id,
  }))
}
