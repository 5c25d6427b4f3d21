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
import {
  findSession,
  insertNodeRows,
  insertTurnRows,
  lockSessions,
  presentSessions,
  writeSessionRow,
} from '../store/session-transfer.js'
import { insertTurnBodies } from '../store/turn-bodies.js'
import { type SessionDocument, TransferError, type TransferPayload } from './format.js'

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

async function resolveParent(
  tx: SqlSession,
  payload: TransferPayload,
): Promise<{ id: string | null; outcome: ParentOutcome }> {
  const { session, parent } = payload
  if (session.parent_session_id === null) return { id: null, outcome: 'none' }
  const id = await findSession(tx, session.org_id, session.parent_session_id, parent)
  return { id, outcome: id === null ? 'missing' : 'linked' }
}

/** Inserts the nodes the org lacks; the writer of each is kept only when the target has that session. */
async function insertNodes(tx: SqlSession, payload: TransferPayload, sessionId: string): Promise<number> {
  const { session, nodes } = payload
  if (nodes.length === 0) return 0
  const writers = [...new Set(nodes.map((n) => n.session_id).filter((id) => id !== session.id))]
  const present = await presentSessions(tx, session.org_id, writers)
  const records = nodes.map((node) => ({
    ...node,
    session_id: present.has(node.session_id) ? node.session_id : sessionId,
  }))
  return insertNodeRows(tx, session.org_id, records)
}

/** The raw bodies of the document's turns (inserted just before, so every turn_id is one of them). */
async function insertBodies(tx: SqlSession, payload: TransferPayload): Promise<number> {
  const bodies = payload.bodies ?? []
  if (bodies.length === 0) return 0
  const turnIds = new Set(payload.turns.map((t) => t.id))
  const stray = bodies.find((b) => !turnIds.has(b.turn_id))
  if (stray) {
    throw new TransferError(
      `invalid export payload: raw bodies for turn ${stray.turn_id}, which the file does not hold`,
    )
  }
  const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'))
  await insertTurnBodies(
    tx,
    bodies.map((b) => ({
      orgId: payload.session.org_id,
      turnId: b.turn_id,
      bodies: {
        encoding: b.encoding,
        request: { bytes: bytes(b.request), size: b.request_size, truncated: b.request_truncated },
        response: { bytes: bytes(b.response), size: b.response_size, truncated: b.response_truncated },
      },
    })),
  )
  return bodies.length
}

function keyText(row: { harness_id: string; harness_session_id: string }): string {
  return `${row.harness_id}/${row.harness_session_id}`
}

async function importInTransaction(tx: SqlSession, payload: TransferPayload): Promise<ImportResult> {
  const { session } = payload
  const existing = await lockSessions(tx, session.org_id, session.id, session)
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
  await writeSessionRow(tx, { ...session, parent_session_id: parent.id }, sameKey?.id ?? null)
  const nodesInserted = await insertNodes(tx, payload, sessionId)
  const turnsInserted = await insertTurnRows(tx, session.org_id, sessionId, payload.turns)
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
