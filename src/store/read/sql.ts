/** What every read query shares: ISO timestamps in SQL and the session-exists probe (ids that are not UUIDs name no session). */
import { isUuid } from '../../session/identifiers.js'
import type { SqlSession } from '../driver.js'

/** Timestamps leave SQL as ISO text, so both drivers (pg: Date, PGlite: its own parsing) agree. */
export const iso = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

export async function sessionExists(db: SqlSession, orgId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false
  const { rows } = await db.query('SELECT 1 FROM sessions WHERE org_id = $1 AND id = $2', [orgId, id])
  return rows.length > 0
}
