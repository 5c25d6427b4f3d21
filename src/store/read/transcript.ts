/** The rows a transcript is built from: a session's turns and every node on their chains, inside one org. */
import { buildTranscript, type Transcript } from '../../session/transcript.js'
import type { SqlSession } from '../driver.js'
import { sessionExists } from './sql.js'

interface ChainNodeRow {
  hash: string
  parent_hash: string | null
  role: string
  content: unknown
}

/** Every node on the chains of the given leaves, walked up through parent_hash inside one org. */
async function chainNodes(db: SqlSession, orgId: string, leaves: string[]): Promise<ChainNodeRow[]> {
  if (leaves.length === 0) return []
  const { rows } = await db.query<ChainNodeRow>(
    `WITH RECURSIVE up(hash) AS (
       SELECT hash FROM nodes WHERE org_id = $1 AND hash = ANY($2::text[])
       UNION
       SELECT n.parent_hash FROM up JOIN nodes n ON n.org_id = $1 AND n.hash = up.hash
       WHERE n.parent_hash IS NOT NULL
     )
     SELECT n.hash, n.parent_hash, n.role, n.content FROM up JOIN nodes n ON n.org_id = $1 AND n.hash = up.hash`,
    [orgId, leaves],
  )
  return rows
}

/** The transcript of a session; null when the org has no such session. */
export async function getTranscript(
  db: SqlSession,
  orgId: string,
  sessionId: string,
): Promise<Transcript | null> {
  if (!(await sessionExists(db, orgId, sessionId))) return null
  const { rows: turns } = await db.query<{
    turn_index: number
    request_leaf_hash: string | null
    response_hash: string | null
    choice_hashes: string[] | null
  }>(
    `SELECT turn_index, request_leaf_hash, response_hash, choice_hashes FROM turns
     WHERE org_id = $1 AND session_id = $2 ORDER BY turn_index`,
    [orgId, sessionId],
  )
  const leaves = new Set<string>()
  for (const turn of turns) {
    if (turn.response_hash) leaves.add(turn.response_hash)
    if (turn.request_leaf_hash) leaves.add(turn.request_leaf_hash)
    for (const hash of turn.choice_hashes ?? []) leaves.add(hash)
  }
  const nodes = await chainNodes(db, orgId, [...leaves])
  return buildTranscript(
    sessionId,
    turns.map((t) => ({
      turnIndex: Number(t.turn_index),
      requestLeafHash: t.request_leaf_hash,
      responseHash: t.response_hash,
      choiceHashes: t.choice_hashes,
    })),
    nodes.map((n) => ({ hash: n.hash, parentHash: n.parent_hash, role: n.role, content: n.content })),
  )
}
