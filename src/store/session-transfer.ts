/**
 * The SQL of session export and import (src/transfer/ decides what to do; these only read and write
 * rows). Rows travel as to_jsonb of the table row, numeric columns as their exact text, and go back
 * through jsonb_populate_record(set), so the column lists of store/schema.ts are the only ones.
 */
import type { SqlSession } from './driver.js'
import { storableJson } from './pg-text.js'
import { NODES_COLUMNS, SESSIONS_COLUMNS, TURNS_COLUMNS } from './schema.js'

type JsonRow = Record<string, unknown>

/** The columns a document row carries: its table's, without those the document states once. */
export const DOCUMENT_COLUMNS = {
  sessions: SESSIONS_COLUMNS,
  turns: TURNS_COLUMNS.filter((c) => c !== 'org_id' && c !== 'session_id'),
  nodes: NODES_COLUMNS.filter((c) => c !== 'org_id'),
} as const

const list = (columns: readonly string[]) => columns.join(', ')

/** The session row (numeric as text) and its parent's natural key; undefined when the org has no such session. */
export async function readSessionRow(
  tx: SqlSession,
  orgId: string,
  sessionId: string,
): Promise<
  { row: JsonRow; parentKey: { harness_id: string; harness_session_id: string } | null } | undefined
> {
  const { rows } = await tx.query<{
    row: JsonRow
    parent_key: { harness_id: string; harness_session_id: string } | null
  }>(
    `SELECT to_jsonb(s) || jsonb_build_object('total_cost_usd', s.total_cost_usd::text) AS row,
            CASE WHEN p.id IS NULL THEN NULL
                 ELSE jsonb_build_object('harness_id', p.harness_id, 'harness_session_id', p.harness_session_id)
            END AS parent_key
     FROM sessions s LEFT JOIN sessions p ON p.org_id = s.org_id AND p.id = s.parent_session_id
     WHERE s.org_id = $1 AND s.id = $2`,
    [orgId, sessionId],
  )
  const found = rows[0]
  return found && { row: found.row, parentKey: found.parent_key }
}

/** The session's turns rows in turn_index order (numeric as text). */
export async function readTurnRows(tx: SqlSession, orgId: string, sessionId: string): Promise<JsonRow[]> {
  const { rows } = await tx.query<{ row: JsonRow }>(
    `SELECT to_jsonb(t) || jsonb_build_object('cost_usd', t.cost_usd::text) AS row
     FROM turns t WHERE t.org_id = $1 AND t.session_id = $2 ORDER BY t.turn_index`,
    [orgId, sessionId],
  )
  return rows.map(({ row }) => row)
}

/** Every node on the chains of the turns' request leaves and responses (every choice), walked up inside the org. */
export async function readChainNodeRows(
  tx: SqlSession,
  orgId: string,
  sessionId: string,
): Promise<JsonRow[]> {
  const { rows } = await tx.query<{ row: JsonRow }>(
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
  return rows.map(({ row }) => row)
}

export interface ExistingSession {
  id: string
  harness_id: string
  harness_session_id: string
  is_placeholder: boolean
  turn_count: number
}

/** The org's sessions with this id or this natural key, locked for the transaction. */
export async function lockSessions(
  tx: SqlSession,
  orgId: string,
  id: string,
  key: { harness_id: string; harness_session_id: string },
): Promise<ExistingSession[]> {
  const { rows } = await tx.query<ExistingSession>(
    `SELECT id, harness_id, harness_session_id, is_placeholder, turn_count FROM sessions
     WHERE org_id = $1 AND (id = $2 OR (harness_id = $3 AND harness_session_id = $4))
     FOR UPDATE`,
    [orgId, id, key.harness_id, key.harness_session_id],
  )
  return rows
}

/** The org's session with this id, else the one with this natural key; null when neither exists. */
export async function findSession(
  tx: SqlSession,
  orgId: string,
  id: string,
  key: { harness_id: string; harness_session_id: string } | null,
): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id, 0 AS rank FROM sessions WHERE org_id = $1 AND id = $2
     UNION ALL
     SELECT id, 1 AS rank FROM sessions WHERE org_id = $1 AND harness_id = $3 AND harness_session_id = $4
     ORDER BY rank LIMIT 1`,
    [orgId, id, key?.harness_id ?? '', key?.harness_session_id ?? ''],
  )
  return rows[0]?.id ?? null
}

/** Which of these session ids the org has. */
export async function presentSessions(
  tx: SqlSession,
  orgId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM sessions WHERE org_id = $1 AND id = ANY($2::uuid[])',
    [orgId, ids],
  )
  return new Set(rows.map((r) => r.id))
}

/** A new sessions row, or the placeholder `placeholderId` overwritten with it (keeping its id and org). */
export async function writeSessionRow(
  tx: SqlSession,
  row: JsonRow,
  placeholderId: string | null,
): Promise<void> {
  if (placeholderId === null) {
    await tx.query(
      `INSERT INTO sessions (${list(SESSIONS_COLUMNS)})
       SELECT ${list(SESSIONS_COLUMNS)} FROM jsonb_populate_record(NULL::sessions, $1::jsonb)`,
      [storableJson(row)],
    )
    return
  }
  const columns = list(SESSIONS_COLUMNS.filter((c) => c !== 'id' && c !== 'org_id'))
  await tx.query(
    `UPDATE sessions SET (${columns}) = (SELECT ${columns} FROM jsonb_populate_record(NULL::sessions, $3::jsonb))
     WHERE org_id = $1 AND id = $2`,
    [row.org_id, placeholderId, storableJson(row)],
  )
}

/** Inserts the nodes the org lacks (document rows); returns how many were new. */
export async function insertNodeRows(
  tx: SqlSession,
  orgId: string,
  rows: readonly JsonRow[],
): Promise<number> {
  if (rows.length === 0) return 0
  const columns = list(DOCUMENT_COLUMNS.nodes)
  const inserted = await tx.query(
    `INSERT INTO nodes (org_id, ${columns})
     SELECT $1, ${columns} FROM jsonb_populate_recordset(NULL::nodes, $2::jsonb)
     ON CONFLICT (org_id, hash) DO NOTHING`,
    [orgId, storableJson(rows)],
  )
  return inserted.rowCount
}

/** Inserts the document's turns rows into the session; returns how many. */
export async function insertTurnRows(
  tx: SqlSession,
  orgId: string,
  sessionId: string,
  rows: readonly JsonRow[],
): Promise<number> {
  if (rows.length === 0) return 0
  const columns = list(DOCUMENT_COLUMNS.turns)
  const inserted = await tx.query(
    `INSERT INTO turns (org_id, session_id, ${columns})
     SELECT $1, $2, ${columns} FROM jsonb_populate_recordset(NULL::turns, $3::jsonb)`,
    [orgId, sessionId, storableJson(rows)],
  )
  return inserted.rowCount
}
