/**
 * The session step of the ingest transaction: each turn's session upserted by its natural key (and its
 * parent, a placeholder when not seen yet), locked in key order for the rest of the transaction.
 */
import type { SessionKey, Turn } from '../session/turn.js'
import type { SqlSession } from './driver.js'
import { parameters, seenAt, TransactionRaceError } from './ingest-common.js'
import { storableJson, storableText } from './pg-text.js'

async function findSessionId(tx: SqlSession, orgId: string, key: SessionKey): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM sessions WHERE org_id = $1 AND harness_id = $2 AND harness_session_id = $3',
    [orgId, key.harnessId, key.harnessSessionId],
  )
  return rows[0]?.id ?? null
}

/**
 * The parent session's id, creating a placeholder under the PARENT's own harness key when the
 * parent has not been seen yet (a fork may cross harnesses). The parent row is not locked.
 */
async function resolveParent(
  tx: SqlSession,
  orgId: string,
  parent: SessionKey,
  at: Date,
  newId: () => string,
): Promise<string> {
  const existing = await findSessionId(tx, orgId, parent)
  if (existing) return existing
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO sessions (id, org_id, harness_id, harness_session_id, is_placeholder, started_at, last_seen_at)
     VALUES ($1, $2, $3, $4, true, $5, $5)
     ON CONFLICT (org_id, harness_id, harness_session_id) DO NOTHING
     RETURNING id`,
    [newId(), orgId, parent.harnessId, parent.harnessSessionId, at],
  )
  // DO NOTHING means a concurrent transaction committed it first; READ COMMITTED now sees that row.
  const id = rows[0]?.id ?? (await findSessionId(tx, orgId, parent))
  if (!id) throw new TransactionRaceError('parent placeholder')
  return id
}

function sameKey(a: SessionKey, b: SessionKey): boolean {
  return a.harnessId === b.harnessId && a.harnessSessionId === b.harnessSessionId
}

export async function parentId(tx: SqlSession, turn: Turn, newId: () => string): Promise<string | null> {
  const env = turn.envelope
  const parent = env.parent && !sameKey(env.parent, env) ? env.parent : null
  return parent ? resolveParent(tx, env.orgId, parent, seenAt(turn), newId) : null
}

export interface LockedSession {
  id: string
  nextTurnIndex: number
  loopStrikes: number
}

/**
 * Inserts or updates the sessions of one round (distinct keys, in key order) by their natural key and
 * locks their rows, in that order, for the rest of the transaction; turn_count read under that lock is
 * the next turn_index.
 */
export async function upsertSessions(
  tx: SqlSession,
  round: Turn[],
  parentIds: Array<string | null>,
  newId: () => string,
): Promise<LockedSession[]> {
  const { values, p } = parameters()
  const tuples = round.map((turn, i) => {
    const env = turn.envelope
    return `(${p(newId())}, ${p(env.orgId)}, ${p(storableText(env.authSubject))}, ${p(env.harnessId)},
             ${p(env.harnessSessionId)}, ${p(storableText(env.sessionSource))}, ${p(storableText(env.name))},
             ${p(storableText(env.cwd))}, ${p(storableText(env.harnessVersion))}, ${p(parentIds[i])},
             ${p(storableJson(env.harnessMetadata ?? {}))}::jsonb, ${p(turn.startedAt)}, ${p(seenAt(turn))})`
  })
  const { rows } = await tx.query<{
    id: string
    turn_count: number
    loop_strikes: number
    harness_id: string
    harness_session_id: string
  }>(
    `INSERT INTO sessions AS s (id, org_id, auth_subject, harness_id, harness_session_id, session_source, name, cwd,
                                harness_version, parent_session_id, harness_metadata, started_at, last_seen_at)
     VALUES ${tuples.join(', ')}
     ON CONFLICT (org_id, harness_id, harness_session_id) DO UPDATE SET
       auth_subject      = COALESCE(EXCLUDED.auth_subject, s.auth_subject),
       session_source    = COALESCE(s.session_source, EXCLUDED.session_source),
       name              = COALESCE(EXCLUDED.name, s.name),
       cwd               = COALESCE(EXCLUDED.cwd, s.cwd),
       harness_version   = COALESCE(EXCLUDED.harness_version, s.harness_version),
       parent_session_id = COALESCE(EXCLUDED.parent_session_id, s.parent_session_id),
       harness_metadata  = s.harness_metadata || EXCLUDED.harness_metadata,
       -- A placeholder's times were the child's; the first real turn replaces them.
       started_at   = CASE WHEN s.is_placeholder THEN EXCLUDED.started_at
                           ELSE LEAST(s.started_at, EXCLUDED.started_at) END,
       last_seen_at = CASE WHEN s.is_placeholder THEN EXCLUDED.last_seen_at
                           ELSE GREATEST(s.last_seen_at, EXCLUDED.last_seen_at) END,
       is_placeholder = false,
       -- A turn newer than the end reopens the session; a late retry of an older one does not.
       ended_at   = CASE WHEN EXCLUDED.last_seen_at <= s.ended_at THEN s.ended_at END,
       end_reason = CASE WHEN EXCLUDED.last_seen_at <= s.ended_at THEN s.end_reason END
     RETURNING id, turn_count, loop_strikes, harness_id, harness_session_id`,
    values,
  )
  // A multi-row INSERT returns its rows in VALUES order; checked, since the indexes depend on it.
  return round.map((turn, i) => {
    const row = rows[i]
    if (!row) throw new TransactionRaceError('session upsert')
    if (
      row.harness_id !== turn.envelope.harnessId ||
      row.harness_session_id !== turn.envelope.harnessSessionId
    )
      throw new Error('session upsert returned its rows out of order')
    return { id: row.id, nextTurnIndex: Number(row.turn_count), loopStrikes: Number(row.loop_strikes) }
  })
}
