/**
 * The body of the ingest transaction: one Turn becomes a session upsert (with its parent), its
 * nodes and one turns row, and the session counters grow only when that turns row is new.
 * Every statement names org_id, so nothing reads or writes across orgs.
 */
import { advanceLoopRun, type LoopRun } from '../loop/loop-run.js'
import type { SessionKey, Turn } from '../session/turn.js'
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

/** Numbered placeholders for one statement: `p(value)` appends the value and returns its `$n`. */
function parameters(): { values: unknown[]; p: (value: unknown) => string } {
  const values: unknown[] = []
  return { values, p: (value) => `$${values.push(value)}` }
}

/**
 * The nodes, the turns row and the session counters in one statement (one round trip). The counters
 * grow only when the turns row is new; returns false when this request id was committed concurrently.
 */
async function insertTurn(
  tx: SqlSession,
  turn: Turn,
  ids: { turnId: string; sessionId: string; turnIndex: number },
  nodes: Buffer | string,
  loopHash: string | null,
  loop: LoopRun | null,
): Promise<boolean> {
  const { values, p } = parameters()
  const usage = turn.usage
  const org = p(turn.envelope.orgId)
  const session = p(ids.sessionId)
  const seen = p(seenAt(turn))
  const endSession = p(turn.envelope.endSession)
  const turnColumns: Array<[string, unknown]> = [
    ['id', ids.turnId],
    ['turn_index', ids.turnIndex],
    ['request_id', turn.requestId],
    ['thread_id', storableText(turn.envelope.threadId)],
    ['provider', turn.provider],
    ['api', turn.api],
    ['model', storableText(turn.model)],
    ['response_model', storableText(turn.responseModel)],
    ['status_code', turn.statusCode],
    ['is_streaming', turn.isStreaming],
    ['is_complete', turn.isComplete],
    ['stop_reason', storableText(turn.stopReason)],
    ['input_tokens', usage.inputTokens],
    ['output_tokens', usage.outputTokens],
    ['cache_read_tokens', usage.cacheReadTokens],
    ['cache_creation_tokens', usage.cacheCreationTokens],
    ['reasoning_tokens', usage.reasoningTokens],
    ['usage_status', usage.status],
    ['cost_usd', turn.costUsd],
    ['latency_ms', turn.latencyMs === null ? null : Math.round(turn.latencyMs)],
    ['ttft_ms', turn.ttftMs === null ? null : Math.round(turn.ttftMs)],
    ['request_leaf_hash', turn.requestLeafHash],
    ['response_hash', turn.responseHash],
    ['provider_response_id', storableText(turn.providerResponseId)],
    ['error_type', storableText(turn.errorType)],
    ['error_message', storableText(turn.errorMessage)],
    ['started_at', turn.startedAt],
    ['loop_hash', loopHash],
  ]
  const { rows } = await tx.query(
    `WITH new_nodes AS (
       -- Sorted by hash so concurrent writers take index locks in the same order; DISTINCT ON drops
       -- a hash repeated within the turn.
       INSERT INTO nodes (org_id, hash, parent_hash, role, content, session_id)
       SELECT DISTINCT ON (n.hash) ${org}::uuid, n.hash, n."parentHash", n.role, n.content, ${session}::uuid
       FROM jsonb_to_recordset(${p(nodes)}::jsonb) AS n(hash text, "parentHash" text, role text, content jsonb)
       ORDER BY n.hash
       ON CONFLICT (org_id, hash) DO NOTHING
     ), new_turn AS (
       INSERT INTO turns (org_id, session_id, ${turnColumns.map(([name]) => name).join(', ')})
       VALUES (${org}, ${session}, ${turnColumns.map(([, value]) => p(value)).join(', ')})
       ON CONFLICT (org_id, request_id) DO NOTHING
       RETURNING id
     )
     UPDATE sessions SET
       turn_count                  = turn_count + 1,
       error_count                 = error_count + ${p(isErrorTurn(turn) ? 1 : 0)},
       total_input_tokens          = total_input_tokens + ${p(usage.inputTokens ?? 0)},
       total_output_tokens         = total_output_tokens + ${p(usage.outputTokens ?? 0)},
       total_cache_read_tokens     = total_cache_read_tokens + ${p(usage.cacheReadTokens ?? 0)},
       total_cache_creation_tokens = total_cache_creation_tokens + ${p(usage.cacheCreationTokens ?? 0)},
       total_reasoning_tokens      = total_reasoning_tokens + ${p(usage.reasoningTokens ?? 0)},
       total_cost_usd              = total_cost_usd + ${p(turn.costUsd ?? 0)},
       -- Only the newest turn names the model (a late retry of an older turn does not).
       last_model = CASE WHEN ${seen}::timestamptz >= last_seen_at
                         THEN COALESCE(${p(storableText(turn.responseModel) ?? storableText(turn.model))}, last_model)
                         ELSE last_model END,
       ended_at   = CASE WHEN ${endSession}::boolean THEN last_seen_at ELSE ended_at END,
       end_reason = CASE WHEN ${endSession}::boolean THEN 'client' ELSE end_reason END,
       -- NULL: the turn takes no part in loop detection and leaves the run as it was.
       loop_strikes     = COALESCE(${p(loop?.strikes ?? null)}::integer, loop_strikes),
       loop_detected_at = CASE WHEN ${p(loop?.detected ?? false)}::boolean THEN ${seen}::timestamptz
                               ELSE loop_detected_at END
     WHERE org_id = ${org} AND id = ${session} AND EXISTS (SELECT 1 FROM new_turn)
     RETURNING id`,
    values,
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

function sameKey(a: SessionKey, b: SessionKey): boolean {
  return a.harnessId === b.harnessId && a.harnessSessionId === b.harnessSessionId
}

export interface IngestOptions {
  /** The turn's nodes as nodesParameter() gives them (encoded off the main thread), else JSON text. */
  nodes?: Buffer | string
  /**
   * Look for an earlier commit of this request first. Off on a first attempt: a repeat then fails
   * its turns insert, the transaction rolls back and the retry (with the lookup) returns the original,
   * so new turns, the common case, save a round trip.
   */
  lookupFirst?: boolean
}

/** Runs inside one READ COMMITTED transaction; the caller retries it on TransactionRaceError. */
export async function ingestTurnInTransaction(
  tx: SqlSession,
  turn: Turn,
  newId: () => string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const nodes = options.nodes ?? storableJson(turn.nodes)
  if (options.lookupFirst ?? true) {
    const committed = await findCommittedTurn(tx, turn)
    if (committed) return committed
  }
  const env = turn.envelope
  const parent = env.parent && !sameKey(env.parent, env) ? env.parent : null
  const parentId = parent ? await resolveParent(tx, env.orgId, parent, seenAt(turn), newId) : null
  const session = await upsertSession(tx, turn, parentId, newId)
  const turnId = newId()
  const loopHash = participatingLoopHash(turn)
  // Reads only earlier turns (turn_index below ours), so it can run before our row exists.
  const loop = loopHash === null ? null : await advanceLoop(tx, env.orgId, session, loopHash)
  const ids = { turnId, sessionId: session.id, turnIndex: session.nextTurnIndex }
  // The same request committed by another transaction after our check above: retrying returns it.
  if (!(await insertTurn(tx, turn, ids, nodes, loopHash, loop))) {
    throw new TransactionRaceError('same request_id already committed')
  }
  return {
    sessionId: session.id,
    turnId,
    turnIndex: session.nextTurnIndex,
    inserted: true,
    loopDetected: loop?.detected ?? false,
  }
}
