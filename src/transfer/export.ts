/**
 * Export: one session of one org, read in one REPEATABLE READ snapshot, as a transfer document with
 * every stored column of its row, its turns, the nodes on its turns' chains and the turns' raw bodies.
 */
import type { Driver, SqlSession } from '../store/index.js'
import {
  type BodiesRow,
  createDocument,
  NODE_COLUMNS,
  nodeRowSchema,
  SESSION_COLUMNS,
  type SessionDocument,
  sessionRowSchema,
  TURN_COLUMNS,
  turnRowSchema,
} from './format.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Only the columns a document carries, whatever else a later migration added to the table. */
function pick<K extends string>(row: Record<string, unknown>, columns: readonly K[]): Record<K, unknown> {
  return Object.fromEntries(columns.map((column) => [column, row[column] ?? null])) as Record<K, unknown>
}

async function readSession(tx: SqlSession, orgId: string, sessionId: string) {
  // numeric as text: exact, where a JSON number would round through a double.
  const { rows } = await tx.query<{ row: Record<string, unknown>; parent_key: unknown }>(
    `SELECT to_jsonb(s) || jsonb_build_object('total_cost_usd', s.total_cost_usd::text) AS row,
            CASE WHEN p.id IS NULL THEN NULL
                 ELSE jsonb_build_object('harness_id', p.harness_id, 'harness_session_id', p.harness_session_id)
            END AS parent_key
     FROM sessions s LEFT JOIN sessions p ON p.org_id = s.org_id AND p.id = s.parent_session_id
     WHERE s.org_id = $1 AND s.id = $2`,
    [orgId, sessionId],
  )
  return rows[0]
}

async function readTurns(tx: SqlSession, orgId: string, sessionId: string) {
  const { rows } = await tx.query<{ row: Record<string, unknown> }>(
    `SELECT to_jsonb(t) || jsonb_build_object('cost_usd', t.cost_usd::text) AS row
     FROM turns t WHERE t.org_id = $1 AND t.session_id = $2 ORDER BY t.turn_index`,
    [orgId, sessionId],
  )
  return rows.map(({ row }) => turnRowSchema.parse(pick(row, TURN_COLUMNS)))
}

/** Every node on the chains of the turns' request leaves and responses (every choice), walked up inside the org. */
async function readNodes(tx: SqlSession, orgId: string, sessionId: string) {
  const { rows } = await tx.query<{ row: Record<string, unknown> }>(
    `WITH RECURSIVE up(hash) AS (
       SELECT e.hash FROM turns t
       CROSS JOIN LATERAL
         unnest(ARRAY[t.request_leaf_hash, t.response_hash] || COALESCE(t.choice_hashes, '{}')) AS e(hash)
       WHERE t.org_id = $1 AND t.session_id = $2 AND e.hash IS NOT NULL
       UNION
       SELECT n.parent_hash FROM up JOIN nodes n ON n.org_id = $1 AND n.hash = up.hash
       WHERE n.parent_hash IS NOT NULL
     )
     SELECT to_jsonb(n) AS row FROM up JOIN nodes n ON n.org_id = $1 AND n.hash = up.hash ORDER BY n.hash`,
    [orgId, sessionId],
  )
  return rows.map(({ row }) => nodeRowSchema.parse(pick(row, NODE_COLUMNS)))
}

/** The raw bodies of the session's turns, bytes as stored (compressed) in base64. */
async function readBodies(tx: SqlSession, orgId: string, sessionId: string): Promise<BodiesRow[]> {
  const { rows } = await tx.query<{
    turn_id: string
    encoding: string
    request: Uint8Array
    request_size: string | number
    request_truncated: boolean
    response: Uint8Array
    response_size: string | number
    response_truncated: boolean
  }>(
    `SELECT b.turn_id, b.encoding, b.request, b.request_size, b.request_truncated,
            b.response, b.response_size, b.response_truncated
     FROM turns t JOIN turn_bodies b ON b.org_id = t.org_id AND b.turn_id = t.id
     WHERE t.org_id = $1 AND t.session_id = $2 ORDER BY t.turn_index`,
    [orgId, sessionId],
  )
  const base64 = (bytes: Uint8Array) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  return rows.map((row) => ({
    turn_id: row.turn_id,
    encoding: row.encoding,
    request: base64(row.request),
    request_size: Number(row.request_size),
    request_truncated: row.request_truncated,
    response: base64(row.response),
    response_size: Number(row.response_size),
    response_truncated: row.response_truncated,
  }))
}

/** The session as a document, or null when the org has no session with this id. */
export async function exportSession(
  driver: Driver,
  orgId: string,
  sessionId: string,
): Promise<SessionDocument | null> {
  if (!UUID.test(sessionId)) return null
  return driver.transaction(
    async (tx) => {
      // Timestamps are written in UTC whatever the server's zone, so the same data exports alike.
      await tx.query("SET LOCAL TIME ZONE 'UTC'")
      const found = await readSession(tx, orgId, sessionId)
      if (!found) return null
      const session = sessionRowSchema.parse(pick(found.row, SESSION_COLUMNS))
      const turns = await readTurns(tx, orgId, sessionId)
      const nodes = await readNodes(tx, orgId, sessionId)
      const bodies = await readBodies(tx, orgId, sessionId)
      const parent = found.parent_key as { harness_id: string; harness_session_id: string } | null
      return createDocument({ exported_at: new Date().toISOString(), session, parent, turns, nodes, bodies })
    },
    { isolation: 'repeatable read' },
  )
}
