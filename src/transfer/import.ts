/**
 * Import: a verified transfer document becomes rows again, in one transaction and only inside the
 * document's org. Idempotent: a session already present (same id) is left exactly as it is.
 *
 * Rules, for what the target database may lack or already hold:
 * - parent_session_id: kept when the parent is in the target org under that id; else the parent is
 *   looked up by its natural key (harness id + harness session id) and linked under its local id;
 *   else it is stored as NULL (a document never creates the parent) and `parent` says 'missing'.
 * - a node first written by a session the target lacks is attributed to the imported session (the
 *   nodes → sessions foreign key needs a row); nodes already present are left as they are.
 * - the same harness session present under another id: a placeholder (created by a child before its
 *   parent was seen, no turns) is filled with the document's row and keeps its local id; anything
 *   else is refused, as are turns whose request ids the org already holds.
 */
import type { Driver, SqlSession } from '../store/index.js'
import { storableJson } from '../store/pg-text.js'
import {
  NODE_COLUMNS,
  SESSION_COLUMNS,
  type SessionDocument,
  type SessionRow,
  TransferError,
  type TransferPayload,
  TURN_COLUMNS,
} from './format.js'

export type ImportStatus = 'imported' | 'already_present' | 'filled_placeholder'
export type ParentOutcome = 'none' | 'linked' | 'missing'

export interface ImportResult {
  status: ImportStatus
  orgId: string
  /** The session's id in the target database (the document's, except for a filled placeholder). */
  sessionId: string
  turnsInserted: number
  nodesInserted: number
  /** Turns whose raw bodies came with them. */
  bodiesInserted: number
  parent: ParentOutcome
}

interface ExistingSession {
  id: string
  harness_id: string
  harness_session_id: string
  is_placeholder: boolean
  turn_count: number
}

const columnList = (columns: readonly string[]) => columns.join(', ')
const SESSION_UPDATABLE = SESSION_COLUMNS.filter((c) => c !== 'id' && c !== 'org_id')

async function lockExisting(tx: SqlSession, session: SessionRow): Promise<ExistingSession[]> {
  const { rows } = await tx.query<ExistingSession>(
    `SELECT id, harness_id, harness_session_id, is_placeholder, turn_count FROM sessions
     WHERE org_id = $1 AND (id = $2 OR (harness_id = $3 AND harness_session_id = $4))
     FOR UPDATE`,
    [session.org_id, session.id, session.harness_id, session.harness_session_id],
  )
  return rows
}

async function resolveParent(
  tx: SqlSession,
  payload: TransferPayload,
): Promise<{ id: string | null; outcome: ParentOutcome }> {
  const { session, parent } = payload
  if (session.parent_session_id === null) return { id: null, outcome: 'none' }
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id, 0 AS rank FROM sessions WHERE org_id = $1 AND id = $2
     UNION ALL
     SELECT id, 1 AS rank FROM sessions WHERE org_id = $1 AND harness_id = $3 AND harness_session_id = $4
     ORDER BY rank LIMIT 1`,
    [session.org_id, session.parent_session_id, parent?.harness_id ?? '', parent?.harness_session_id ?? ''],
  )
  const id = rows[0]?.id ?? null
  return { id, outcome: id === null ? 'missing' : 'linked' }
}

/** Inserts the nodes the org lacks; the writer of each is kept only when the target has that session. */
async function insertNodes(tx: SqlSession, payload: TransferPayload, sessionId: string): Promise<number> {
  const { session, nodes } = payload
  if (nodes.length === 0) return 0
  const writers = [...new Set(nodes.map((n) => n.session_id).filter((id) => id !== session.id))]
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM sessions WHERE org_id = $1 AND id = ANY($2::uuid[])',
    [session.org_id, writers],
  )
  const present = new Set(rows.map((r) => r.id))
  const records = nodes.map((node) => ({
    ...node,
    session_id: present.has(node.session_id) ? node.session_id : sessionId,
  }))
  const columns = columnList(NODE_COLUMNS)
  const inserted = await tx.query(
    `INSERT INTO nodes (org_id, ${columns})
     SELECT $1, ${columns} FROM jsonb_populate_recordset(NULL::nodes, $2::jsonb)
     ON CONFLICT (org_id, hash) DO NOTHING`,
    [session.org_id, storableJson(records)],
  )
  return inserted.rowCount
}

async function insertTurns(tx: SqlSession, payload: TransferPayload, sessionId: string): Promise<number> {
  if (payload.turns.length === 0) return 0
  const columns = columnList(TURN_COLUMNS)
  const inserted = await tx.query(
    `INSERT INTO turns (org_id, session_id, ${columns})
     SELECT $1, $2, ${columns} FROM jsonb_populate_recordset(NULL::turns, $3::jsonb)`,
    [payload.session.org_id, sessionId, storableJson(payload.turns)],
  )
  return inserted.rowCount
}

/** The raw bodies of the document's turns (inserted just before, so every turn_id is one of them). */
async function insertBodies(tx: SqlSession, payload: TransferPayload): Promise<number> {
  const bodies = payload.bodies ?? []
  if (bodies.length === 0) return 0
  const turnIds = new Set(payload.turns.map((t) => t.id))
  const stray = bodies.find((b) => !turnIds.has(b.turn_id))
  if (stray)
    throw new TransferError(
      `invalid export payload: raw bodies for turn ${stray.turn_id}, which the file does not hold`,
    )
  const inserted = await tx.query(
    `INSERT INTO turn_bodies (org_id, turn_id, encoding, request, request_size, request_truncated,
                              response, response_size, response_truncated)
     SELECT $1, b.turn_id, b.encoding, decode(b.request, 'base64'), b.request_size, b.request_truncated,
            decode(b.response, 'base64'), b.response_size, b.response_truncated
     FROM jsonb_to_recordset($2::jsonb) AS b(turn_id uuid, encoding text, request text, request_size bigint,
          request_truncated boolean, response text, response_size bigint, response_truncated boolean)`,
    [payload.session.org_id, storableJson(bodies)],
  )
  return inserted.rowCount
}

async function writeSession(tx: SqlSession, row: SessionRow, placeholderId: string | null): Promise<void> {
  if (placeholderId === null) {
    const columns = columnList(SESSION_COLUMNS)
    await tx.query(
      `INSERT INTO sessions (${columns}) SELECT ${columns} FROM jsonb_populate_record(NULL::sessions, $1::jsonb)`,
      [storableJson(row)],
    )
    return
  }
  const columns = columnList(SESSION_UPDATABLE)
  await tx.query(
    `UPDATE sessions SET (${columns}) = (SELECT ${columns} FROM jsonb_populate_record(NULL::sessions, $3::jsonb))
     WHERE org_id = $1 AND id = $2`,
    [row.org_id, placeholderId, storableJson(row)],
  )
}

function keyText(row: { harness_id: string; harness_session_id: string }): string {
  return `${row.harness_id}/${row.harness_session_id}`
}

async function importInTransaction(tx: SqlSession, payload: TransferPayload): Promise<ImportResult> {
  const { session } = payload
  const existing = await lockExisting(tx, session)
  const parent = await resolveParent(tx, payload)
  const result = { orgId: session.org_id, parent: parent.outcome }
  const sameId = existing.find((row) => row.id === session.id)
  if (sameId) {
    if (keyText(sameId) !== keyText(session)) {
      throw new TransferError(
        `session ${session.id} already exists in org ${session.org_id} as ${keyText(sameId)}, not ${keyText(session)}`,
      )
    }
    return {
      ...result,
      status: 'already_present',
      sessionId: session.id,
      turnsInserted: 0,
      nodesInserted: 0,
      bodiesInserted: 0,
    }
  }
  const sameKey = existing[0]
  if (sameKey && !(sameKey.is_placeholder && Number(sameKey.turn_count) === 0)) {
    throw new TransferError(
      `org ${session.org_id} already has ${keyText(session)} as session ${sameKey.id} (the file holds ${session.id}); delete it first or import into another database`,
    )
  }
  const sessionId = sameKey?.id ?? session.id
  await writeSession(tx, { ...session, parent_session_id: parent.id }, sameKey?.id ?? null)
  const nodesInserted = await insertNodes(tx, payload, sessionId)
  const turnsInserted = await insertTurns(tx, payload, sessionId)
  const bodiesInserted = await insertBodies(tx, payload)
  return {
    ...result,
    status: sameKey ? 'filled_placeholder' : 'imported',
    sessionId,
    turnsInserted,
    nodesInserted,
    bodiesInserted,
  }
}

/** Imports a document parsed by parseDocument (which verified its version and checksum). */
export async function importSession(driver: Driver, document: SessionDocument): Promise<ImportResult> {
  try {
    return await driver.transaction((tx) => importInTransaction(tx, document.payload))
  } catch (err) {
    if ((err as { code?: unknown }).code === '23505') {
      const { constraint, detail } = err as { constraint?: string; detail?: string }
      throw new TransferError(
        `import refused: the database already holds rows this session would duplicate (${constraint ?? 'unique key'}${detail ? `: ${detail}` : ''}); nothing was imported`,
      )
    }
    throw err
  }
}
