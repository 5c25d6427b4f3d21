/**
 * Export: one session of one org, read in one REPEATABLE READ snapshot, as a transfer document with
 * every stored column of its row, its turns, the nodes on its turns' chains and the turns' raw bodies.
 */

import { isUuid } from '../session/identifiers.js'
import type { Driver } from '../store/index.js'
import {
  DOCUMENT_COLUMNS,
  readChainNodeRows,
  readSessionRow,
  readTurnRows,
} from '../store/session-transfer.js'
import { sessionTurnBodies } from '../store/turn-bodies.js'
import {
  type BodiesRow,
  createDocument,
  nodeRowSchema,
  type SessionDocument,
  sessionRowSchema,
  turnRowSchema,
} from './format.js'

/** A row with every column of the document's list (a column the row lacks is null). */
function pick(row: Record<string, unknown>, columns: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((column) => [column, row[column] ?? null]))
}

const base64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')

/** The session as a document, or null when the org has no session with this id. */
export async function exportSession(
  driver: Driver,
  orgId: string,
  sessionId: string,
): Promise<SessionDocument | null> {
  if (!isUuid(sessionId)) return null
  return driver.transaction(
    async (tx) => {
      // Timestamps are written in UTC whatever the server's zone, so the same data exports alike.
      await tx.query("SET LOCAL TIME ZONE 'UTC'")
      const found = await readSessionRow(tx, orgId, sessionId)
      if (!found) return null
      const session = sessionRowSchema.parse(pick(found.row, DOCUMENT_COLUMNS.sessions))
      const turns = (await readTurnRows(tx, orgId, sessionId)).map((row) =>
        turnRowSchema.parse(pick(row, DOCUMENT_COLUMNS.turns)),
      )
      const nodes = (await readChainNodeRows(tx, orgId, sessionId)).map((row) =>
        nodeRowSchema.parse(pick(row, DOCUMENT_COLUMNS.nodes)),
      )
      const bodies: BodiesRow[] = (await sessionTurnBodies(tx, orgId, sessionId)).map(
        ({ turnId, bodies: b }) => ({
          turn_id: turnId,
          encoding: b.encoding,
          request: base64(b.request.bytes),
          request_size: b.request.size,
          request_truncated: b.request.truncated,
          response: base64(b.response.bytes),
          response_size: b.response.size,
          response_truncated: b.response.truncated,
        }),
      )
      return createDocument({
        exported_at: new Date().toISOString(),
        session,
        parent: found.parentKey,
        turns,
        nodes,
        bodies,
      })
    },
    { isolation: 'repeatable read' },
  )
}
