/**
 * The turn_bodies table: each turn's original request and response bodies (decoded, compressed),
 * written in the ingest transaction right after the turns rows, and read back for the raw view.
 */

import { isUuid } from '../session/identifiers.js'
import type { RawBodies } from '../session/turn.js'
import type { SqlSession } from './driver.js'
import { decompressRawBody } from './raw-body-codec.js'

export interface TurnBodiesRow {
  orgId: string
  turnId: string
  bodies: RawBodies
}

const bytea = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** One statement for the new turns of a transaction that carry raw bodies. */
export async function insertTurnBodies(tx: SqlSession, rows: readonly TurnBodiesRow[]): Promise<void> {
  if (rows.length === 0) return
  const values: unknown[] = []
  const p = (value: unknown) => `$${values.push(value)}`
  const tuples = rows.map(({ orgId, turnId, bodies }) => {
    const { request, response } = bodies
    return `(${[
      orgId,
      turnId,
      bodies.encoding,
      bytea(request.bytes),
      request.size,
      request.truncated,
      bytea(response.bytes),
      response.size,
      response.truncated,
    ]
      .map(p)
      .join(', ')})`
  })
  await tx.query(
    `INSERT INTO turn_bodies (org_id, turn_id, encoding, request, request_size, request_truncated,
                              response, response_size, response_truncated)
     VALUES ${tuples.join(', ')}`,
    values,
  )
}

/** One body as the raw view shows it. */
export interface RawBodyView {
  /** The stored bytes as UTF-8 text (LLM API bodies are JSON or SSE text). */
  text: string
  /** Decoded size of the whole body. */
  size: number
  /** The text is not the whole body (see RawBody.truncated). */
  truncated: boolean
}

export interface TurnRaw {
  turnId: string
  turnIndex: number
  /** null: the turn exists but no raw bodies were stored for it (switched off, or recorded before). */
  raw: { request: RawBodyView; response: RawBodyView } | null
}

/** A turn named by its id (a UUID) or its index in the session (digits). */
export type TurnRef = { id: string } | { index: number }

export function parseTurnRef(text: string): TurnRef | null {
  if (/^\d{1,9}$/.test(text)) return { index: Number(text) }
  return isUuid(text) ? { id: text.toLowerCase() } : null
}

/** The turn and its turn_bodies columns, as the raw view and the export read them. */
const BODY_SELECT = `t.id AS turn_id, t.turn_index, b.encoding, b.request, b.request_size, b.request_truncated,
            b.response, b.response_size, b.response_truncated`

/** The turn with its turn_bodies row; without one, `encoding` is NULL and so is every other body column. */
interface StoredBodiesRow {
  turn_id: string
  turn_index: number
  encoding: string | null
  request: Uint8Array
  request_size: string | number
  request_truncated: boolean
  response: Uint8Array
  response_size: string | number
  response_truncated: boolean
}

function view(bytes: Uint8Array, encoding: string, size: string | number, truncated: boolean): RawBodyView {
  return { text: decompressRawBody(bytes, encoding).toString('utf8'), size: Number(size), truncated }
}

/** The raw bodies of one turn of the org's session; null when there is no such session or turn. */
export async function getTurnRaw(
  db: SqlSession,
  orgId: string,
  sessionId: string,
  ref: TurnRef,
): Promise<TurnRaw | null> {
  if (!isUuid(sessionId)) return null
  const byId = 'id' in ref
  const { rows } = await db.query<StoredBodiesRow>(
    `SELECT ${BODY_SELECT}
     FROM turns t LEFT JOIN turn_bodies b ON b.turn_id = t.id AND b.org_id = t.org_id
     WHERE t.org_id = $1 AND t.session_id = $2 AND ${byId ? 't.id = $3::uuid' : 't.turn_index = $3'}`,
    [orgId, sessionId, byId ? ref.id : ref.index],
  )
  const row = rows[0]
  if (!row) return null
  const { encoding } = row
  const raw =
    encoding === null
      ? null
      : {
          request: view(row.request, encoding, row.request_size, row.request_truncated),
          response: view(row.response, encoding, row.response_size, row.response_truncated),
        }
  return { turnId: row.turn_id, turnIndex: Number(row.turn_index), raw }
}

/** Every raw-bodies row of the org's session, in turn order, as stored (compressed): what an export carries. */
export async function sessionTurnBodies(
  db: SqlSession,
  orgId: string,
  sessionId: string,
): Promise<TurnBodiesRow[]> {
  const { rows } = await db.query<StoredBodiesRow & { encoding: string }>(
    `SELECT ${BODY_SELECT}
     FROM turns t JOIN turn_bodies b ON b.org_id = t.org_id AND b.turn_id = t.id
     WHERE t.org_id = $1 AND t.session_id = $2 ORDER BY t.turn_index`,
    [orgId, sessionId],
  )
  return rows.map((row) => ({
    orgId,
    turnId: row.turn_id,
    bodies: {
      encoding: row.encoding as RawBodies['encoding'],
      request: { bytes: row.request, size: Number(row.request_size), truncated: row.request_truncated },
      response: { bytes: row.response, size: Number(row.response_size), truncated: row.response_truncated },
    },
  }))
}
