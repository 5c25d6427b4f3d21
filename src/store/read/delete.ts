/** deleteSession: a session, its turns and the nodes no other session uses, in one transaction. */

import { isUuid } from '../../session/identifiers.js'
import type { Driver } from '../driver.js'

export interface DeleteResult {
  sessionId: string
  turnsDeleted: number
  nodesDeleted: number
  /** Nodes this session wrote first that other sessions' chains still use: kept, handed to one of them. */
  nodesKept: number
  /** Children whose parent link was cleared (they are not deleted). */
  childrenDetached: number
}

/**
 * Deletes a session and its turns in one transaction; null when the org has no such session.
 *
 * Nodes: nodes.session_id only records the FIRST session that wrote a node; other sessions reach
 * the same node by hash from their own turns. So a node this session wrote is kept when a turn of
 * another session of the org has it on its chain (its session_id passes to the lowest such
 * session id), and deleted otherwise. Nodes other sessions wrote are never touched. Children stay,
 * with their parent link cleared. If the same harness session sends another turn later, it becomes
 * a new session with a new id.
 *
 * A writer committing a turn that re-uses one of these nodes at the very moment of the delete can
 * find it gone afterwards; every turn re-inserts its whole chain, so that session's next turn
 * restores the node, and the transcript marks the gap (missingParentHash) until then.
 */
export async function deleteSession(driver: Driver, orgId: string, id: string): Promise<DeleteResult | null> {
  if (!isUuid(id)) return null
  return driver.transaction(async (tx) => {
    const { rows: found } = await tx.query(
      'SELECT id FROM sessions WHERE org_id = $1 AND id = $2 FOR UPDATE',
      [orgId, id],
    )
    if (found.length === 0) return null
    // down: this session's nodes and everything below them; up: from the other sessions' turn ends
    // inside `down` back up to those nodes, carrying which session reached them.
    const { rows: kept } = await tx.query<{ hash: string; owner: string }>(
      `WITH RECURSIVE
       down(hash) AS (
         SELECT hash FROM nodes WHERE org_id = $1 AND session_id = $2
         UNION
         SELECT n.hash FROM down JOIN nodes n ON n.org_id = $1 AND n.parent_hash = down.hash
       ),
       up(hash, session_id) AS (
         SELECT e.hash, t.session_id
         FROM turns t CROSS JOIN LATERAL
           unnest(ARRAY[t.request_leaf_hash, t.response_hash] || COALESCE(t.choice_hashes, '{}')) AS e(hash)
         WHERE t.org_id = $1 AND t.session_id <> $2 AND e.hash IN (SELECT hash FROM down)
         UNION
         SELECT n.parent_hash, up.session_id FROM up JOIN nodes n ON n.org_id = $1 AND n.hash = up.hash
         WHERE n.parent_hash IN (SELECT hash FROM down)
       )
       SELECT up.hash, min(up.session_id::text) AS owner
       FROM up JOIN nodes n ON n.org_id = $1 AND n.hash = up.hash AND n.session_id = $2
       GROUP BY up.hash`,
      [orgId, id],
    )
    if (kept.length > 0) {
      await tx.query(
        `UPDATE nodes n SET session_id = k.owner::uuid
         FROM jsonb_to_recordset($3::jsonb) AS k(hash text, owner text)
         WHERE n.org_id = $1 AND n.session_id = $2 AND n.hash = k.hash`,
        [orgId, id, JSON.stringify(kept)],
      )
    }
    const detached = await tx.query(
      'UPDATE sessions SET parent_session_id = NULL WHERE org_id = $1 AND parent_session_id = $2',
      [orgId, id],
    )
    const turns = await tx.query('DELETE FROM turns WHERE org_id = $1 AND session_id = $2', [orgId, id])
    const nodes = await tx.query('DELETE FROM nodes WHERE org_id = $1 AND session_id = $2', [orgId, id])
    await tx.query('DELETE FROM sessions WHERE org_id = $1 AND id = $2', [orgId, id])
    return {
      sessionId: id,
      turnsDeleted: turns.rowCount,
      nodesDeleted: nodes.rowCount,
      nodesKept: kept.length,
      childrenDetached: detached.rowCount,
    }
  })
}
