/**
 * The body of the ingest transaction: one Turn becomes a session upsert (with its parent), its
 * nodes and one turns row, and the session counters grow only when that turns row is new.
 * Every statement names org_id, so nothing reads or writes across orgs.
 */
import { advanceLoopRun, type LoopRun } from '../loop/loop-run.js'
import type { ChainNode, SessionKey, Turn } from '../session/turn.js'
import type { SqlSession } from './driver.js'
import { storableJson, storableText } from './pg-text.js'

export interface IngestResult {
  sessionId: string
  turnId: string
  turnIndex: number
  /** false: this (org_id, request_id) was committed before; the ids are the original ones. */
  inserted: boolean
  /** This turn completed a run of identical loop hashes: the session is now flagged as looping. */
  loopDetected?: boolean
}

/** A concurrent transaction won a race this one cannot resolve in place: run it again. */
export class TransactionRaceError extends Error {
  constructor(what: string) {
    super(`concurrent write raced this transaction (${what}); retry it`)
    this.name = 'TransactionRaceError'
  }
}

/** The moment the turn was last active: its end when the latency is known. */
function seenAt(turn: Turn): Date {
  return new Date(turn.startedAt.getTime() + (turn.latencyMs ?? 0))
}

async function findCommittedTurn(tx: SqlSession, turn: Turn): Promise<IngestResult | null> {
  const { rows } = await tx.query<{ id: string; session_id: string; turn_index: number }>(
    'SELECT id, session_id, turn_index FROM turns WHERE org_id = $1 AND request_id = $2',
    [turn.envelope.orgId, turn.requestId],
  )
  const row = rows[0]
  return row
    ? {
        sessionId: row.session_id,
        turnId: row.id,
        turnIndex: row.turn_index,
        inserted: false,
        loopDetected: false,
      }
    : null
}

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

/**
 * Inserts or updates the session by its natural key and locks its row for the rest of the
 * transaction; turn_count read under that lock is the next turn_index.
 */
async function upsertSession(
  tx: SqlSession,
  turn: Turn,
  parentId: string | null,
  newId: () => string,
): Promise<{ id: string; nextTurnIndex: number; loopStrikes: number }> {
  const env = turn.envelope
  const { rows } = await tx.query<{ id: string; turn_count: number; loop_strikes: number }>(
    `INSERT INTO sessions AS s (id, org_id, auth_subject, harness_id, harness_session_id, session_source, name, cwd,
                                harness_version, parent_session_id, harness_metadata, started_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)
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
     RETURNING id, turn_count, loop_strikes`,
    [
      newId(),
      env.orgId,
      storableText(env.authSubject),
      env.harnessId,
      env.harnessSessionId,
      storableText(env.sessionSource),
      storableText(env.name),
      storableText(env.cwd),
      storableText(env.harnessVersion),
      parentId,
      storableJson(env.harnessMetadata ?? {}),
      turn.startedAt,
      seenAt(turn),
    ],
  )
  const row = rows[0]
  if (!row) throw new TransactionRaceError('session upsert')
  return { id: row.id, nextTurnIndex: Number(row.turn_count), loopStrikes: Number(row.loop_strikes) }
}

/** One multi-row insert; sorted by hash so concurrent writers take index locks in the same order. */
async function insertNodes(
  tx: SqlSession,
  orgId: string,
  sessionId: string,
  nodes: ChainNode[],
): Promise<void> {
  const byHash = new Map(nodes.map((node) => [node.hash, node]))
  if (byHash.size === 0) return
  const records = [...byHash.values()]
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    .map((node) => ({
      hash: node.hash,
      parent_hash: node.parentHash,
      role: node.role,
      content: node.content,
    }))
  await tx.query(
    `INSERT INTO nodes (org_id, hash, parent_hash, role, content, session_id)
     SELECT $1, n.hash, n.parent_hash, n.role, n.content, $2
     FROM jsonb_to_recordset($3::jsonb) AS n(hash text, parent_hash text, role text, content jsonb)
     ON CONFLICT (org_id, hash) DO NOTHING`,
    [orgId, sessionId, storableJson(records)],
  )
}

async function insertTurnRow(
  tx: SqlSession,
  turn: Turn,
  turnId: string,
  sessionId: string,
  turnIndex: number,
  loopHash: string | null,
): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO turns (id, org_id, session_id, turn_index, request_id, thread_id, provider, api, model,
                        response_model, status_code, is_streaming, is_complete, stop_reason, input_tokens,
                        output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, usage_status,
                        cost_usd, latency_ms, ttft_ms, request_leaf_hash, response_hash, provider_response_id,
                        error_type, error_message, started_at, loop_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
             $23, $24, $25, $26, $27, $28, $29, $30)
     ON CONFLICT (org_id, request_id) DO NOTHING
     RETURNING id`,
    [
      turnId,
      turn.envelope.orgId,
      sessionId,
      turnIndex,
      turn.requestId,
      storableText(turn.envelope.threadId),
      turn.provider,
      turn.api,
      storableText(turn.model),
      storableText(turn.responseModel),
      turn.statusCode,
      turn.isStreaming,
      turn.isComplete,
      storableText(turn.stopReason),
      turn.usage.inputTokens,
      turn.usage.outputTokens,
      turn.usage.cacheReadTokens,
      turn.usage.cacheCreationTokens,
      turn.usage.reasoningTokens,
      turn.usage.status,
      turn.costUsd,
      turn.latencyMs === null ? null : Math.round(turn.latencyMs),
      turn.ttftMs === null ? null : Math.round(turn.ttftMs),
      turn.requestLeafHash,
      turn.responseHash,
      storableText(turn.providerResponseId),
      storableText(turn.errorType),
      storableText(turn.errorMessage),
      turn.startedAt,
      loopHash,
    ],
  )
  return rows.length === 1
}

export function isErrorTurn(turn: Turn): boolean {
  return (
    (turn.statusCode !== null && turn.statusCode >= 400) ||
    turn.errorType !== null ||
    turn.errorMessage !== null
  )
}

/** The loop hash the turn takes part in loop detection with: error turns are retries, not steps. */
function participatingLoopHash(turn: Turn): string | null {
  return isErrorTurn(turn) ? null : (turn.loopHash ?? null)
}

/**
 * Advances the session's run of identical loop hashes. Read under the session row lock taken by
 * upsertSession, so concurrent turns of one session see each other's hashes in turn_index order.
 */
async function advanceLoop(
  tx: SqlSession,
  orgId: string,
  session: { id: string; nextTurnIndex: number; loopStrikes: number },
  loopHash: string,
): Promise<LoopRun> {
  const { rows } = await tx.query<{ loop_hash: string }>(
    `SELECT loop_hash FROM turns
     WHERE org_id = $1 AND session_id = $2 AND turn_index < $3 AND loop_hash IS NOT NULL
     ORDER BY turn_index DESC LIMIT 1`,
    [orgId, session.id, session.nextTurnIndex],
  )
  return advanceLoopRun(rows[0]?.loop_hash ?? null, session.loopStrikes, loopHash)
}

async function addToCounters(
  tx: SqlSession,
  turn: Turn,
  sessionId: string,
  loop: LoopRun | null,
): Promise<void> {
  const usage = turn.usage
  await tx.query(
    `UPDATE sessions SET
       turn_count                  = turn_count + 1,
       error_count                 = error_count + $3,
       total_input_tokens          = total_input_tokens + $4,
       total_output_tokens         = total_output_tokens + $5,
       total_cache_read_tokens     = total_cache_read_tokens + $6,
       total_cache_creation_tokens = total_cache_creation_tokens + $7,
       total_reasoning_tokens      = total_reasoning_tokens + $8,
       total_cost_usd              = total_cost_usd + $9,
       -- Only the newest turn names the model (a late retry of an older turn does not).
       last_model = CASE WHEN $10::timestamptz >= last_seen_at THEN COALESCE($11, last_model) ELSE last_model END,
       ended_at   = CASE WHEN $12::boolean THEN last_seen_at ELSE ended_at END,
       end_reason = CASE WHEN $12::boolean THEN 'client' ELSE end_reason END,
       -- NULL: the turn takes no part in loop detection and leaves the run as it was.
       loop_strikes     = COALESCE($13::integer, loop_strikes),
       loop_detected_at = CASE WHEN $14::boolean THEN $10::timestamptz ELSE loop_detected_at END
     WHERE org_id = $1 AND id = $2`,
    [
      turn.envelope.orgId,
      sessionId,
      isErrorTurn(turn) ? 1 : 0,
      usage.inputTokens ?? 0,
      usage.outputTokens ?? 0,
      usage.cacheReadTokens ?? 0,
      usage.cacheCreationTokens ?? 0,
      usage.reasoningTokens ?? 0,
      turn.costUsd ?? 0,
      seenAt(turn),
      storableText(turn.responseModel) ?? storableText(turn.model),
      turn.envelope.endSession,
      loop?.strikes ?? null,
      loop?.detected ?? false,
    ],
  )
}

function sameKey(a: SessionKey, b: SessionKey): boolean {
  return a.harnessId === b.harnessId && a.harnessSessionId === b.harnessSessionId
}

/** Runs inside one READ COMMITTED transaction; the caller retries it on TransactionRaceError. */
export async function ingestTurnInTransaction(
  tx: SqlSession,
  turn: Turn,
  newId: () => string,
): Promise<IngestResult> {
  const committed = await findCommittedTurn(tx, turn)
  if (committed) return committed
  const env = turn.envelope
  const parent = env.parent && !sameKey(env.parent, env) ? env.parent : null
  const parentId = parent ? await resolveParent(tx, env.orgId, parent, seenAt(turn), newId) : null
  const session = await upsertSession(tx, turn, parentId, newId)
  await insertNodes(tx, env.orgId, session.id, turn.nodes)
  const turnId = newId()
  const loopHash = participatingLoopHash(turn)
  // The same request committed by another transaction after our check above: retrying returns it.
  if (!(await insertTurnRow(tx, turn, turnId, session.id, session.nextTurnIndex, loopHash))) {
    throw new TransactionRaceError('same request_id committed concurrently')
  }
  const loop = loopHash === null ? null : await advanceLoop(tx, env.orgId, session, loopHash)
  await addToCounters(tx, turn, session.id, loop)
  return {
    sessionId: session.id,
    turnId,
    turnIndex: session.nextTurnIndex,
    inserted: true,
    loopDetected: loop?.detected ?? false,
  }
}
