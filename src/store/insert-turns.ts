/**
 * The turns step of the ingest transaction: one round's turns rows, their nodes and their sessions'
 * counters in one statement.
 */
import type { LoopRun } from '../loop/loop-run.js'
import type { Turn } from '../session/turn.js'
import type { SqlSession } from './driver.js'
import { isErrorTurn, parameters, seenAt, TransactionRaceError } from './ingest-common.js'
import { storableText } from './pg-text.js'
import { TURNS_COLUMNS, type TurnsColumn } from './schema.js'
import type { LockedSession } from './upsert-sessions.js'

/** Every turns column but created_at (the database's clock): a new column must get its value below. */
type TurnInsertColumn = Exclude<TurnsColumn, 'created_at'>
const TURN_INSERT_COLUMNS = TURNS_COLUMNS.filter((c): c is TurnInsertColumn => c !== 'created_at')

/** One new turn of a round, ready for its turns row and its session's counters. */
export interface NewTurnRow {
  turn: Turn
  turnId: string
  session: LockedSession
  loopHash: string | null
  loop: LoopRun | null
  /** The turn whose response asked for this subagent call, or null. */
  parentTurnId: string | null
}

/** The nodes of several turns as one jsonb array of {org, session, i, nodes}: byte concatenation, no JSON pass. */
export function batchNodesParameter(
  entries: Array<{ orgId: string; sessionId: string; nodes: Buffer | string }>,
  binary: boolean,
): Buffer | string {
  const parts: Buffer[] = [Buffer.from(binary ? '\u0001[' : '[')]
  entries.forEach((entry, i) => {
    const head = `${i > 0 ? ',' : ''}{"org":${JSON.stringify(entry.orgId)},"session":"${entry.sessionId}","i":${i},"nodes":`
    // A Buffer is binary jsonb: a version byte, then the JSON text.
    const json = typeof entry.nodes === 'string' ? Buffer.from(entry.nodes) : entry.nodes.subarray(1)
    parts.push(Buffer.from(head), json, Buffer.from('}'))
  })
  parts.push(Buffer.from(']'))
  const joined = Buffer.concat(parts)
  return binary ? joined : joined.toString('utf8')
}

/**
 * The round's turns rows and their sessions' counters in one statement (one round trip), with the
 * nodes of the whole transaction when given (the last round: every session row exists by then). The
 * counters grow only for new turns rows; throws TransactionRaceError when a request id of the round
 * was committed concurrently.
 */
export async function insertTurns(
  tx: SqlSession,
  round: NewTurnRow[],
  nodes: Buffer | string | null,
): Promise<void> {
  const { values, p } = parameters()
  const turnTuples: string[] = []
  const counterTuples: string[] = []
  for (const { turn, turnId, session, loopHash, loop, parentTurnId } of round) {
    const usage = turn.usage
    const row: Record<TurnInsertColumn, unknown> = {
      id: turnId,
      org_id: turn.envelope.orgId,
      session_id: session.id,
      turn_index: session.nextTurnIndex,
      request_id: turn.requestId,
      thread_id: storableText(turn.envelope.threadId),
      provider: turn.provider,
      api: turn.api,
      model: storableText(turn.model),
      response_model: storableText(turn.responseModel),
      status_code: turn.statusCode,
      is_streaming: turn.isStreaming,
      is_complete: turn.isComplete,
      stop_reason: storableText(turn.stopReason),
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      cache_read_tokens: usage.cacheReadTokens,
      cache_creation_tokens: usage.cacheCreationTokens,
      reasoning_tokens: usage.reasoningTokens,
      usage_status: usage.status,
      cost_usd: turn.costUsd,
      latency_ms: turn.latencyMs === null ? null : Math.round(turn.latencyMs),
      ttft_ms: turn.ttftMs === null ? null : Math.round(turn.ttftMs),
      request_leaf_hash: turn.requestLeafHash,
      response_hash: turn.responseHash,
      provider_response_id: storableText(turn.providerResponseId),
      error_type: storableText(turn.errorType),
      error_message: storableText(turn.errorMessage),
      started_at: turn.startedAt,
      loop_hash: loopHash,
      cache_creation_5m_tokens: usage.cacheCreation5mTokens ?? null,
      cache_creation_1h_tokens: usage.cacheCreation1hTokens ?? null,
      web_search_requests: usage.webSearchRequests ?? null,
      choice_hashes: turn.choiceHashes ?? null,
      provider_timing: turn.providerTiming ? JSON.stringify(turn.providerTiming) : null,
      parent_turn_id: parentTurnId,
    }
    turnTuples.push(`(${TURN_INSERT_COLUMNS.map((column) => p(row[column])).join(', ')})`)
    counterTuples.push(
      `(${p(turn.envelope.orgId)}::uuid, ${p(session.id)}::uuid, ${p(isErrorTurn(turn) ? 1 : 0)}::integer,
        ${p(usage.inputTokens ?? 0)}::bigint, ${p(usage.outputTokens ?? 0)}::bigint,
        ${p(usage.cacheReadTokens ?? 0)}::bigint, ${p(usage.cacheCreationTokens ?? 0)}::bigint,
        ${p(usage.reasoningTokens ?? 0)}::bigint, ${p(turn.costUsd ?? 0)}::numeric,
        ${p(seenAt(turn))}::timestamptz, ${p(storableText(turn.responseModel) ?? storableText(turn.model))}::text,
        ${p(turn.envelope.endSession)}::boolean, ${p(loop?.strikes ?? null)}::integer, ${p(loop?.detected ?? false)}::boolean)`,
    )
  }
  const nodesStep =
    nodes === null
      ? ''
      : `new_nodes AS (
       -- Sorted by (org, hash) so concurrent writers take index locks in the same order; DISTINCT ON
       -- drops a repeated hash, keeping the session of the earliest turn that carries it.
       INSERT INTO nodes (org_id, hash, parent_hash, role, content, session_id)
       SELECT DISTINCT ON (t.org, n.hash) t.org, n.hash, n."parentHash", n.role, n.content, t.session
       FROM jsonb_to_recordset(${p(nodes)}::jsonb) AS t(org uuid, session uuid, i integer, nodes jsonb)
       CROSS JOIN LATERAL jsonb_to_recordset(t.nodes) AS n(hash text, "parentHash" text, role text, content jsonb)
       ORDER BY t.org, n.hash, t.i
       ON CONFLICT (org_id, hash) DO NOTHING
     ), `
  const { rows } = await tx.query(
    `WITH ${nodesStep}new_turns AS (
       INSERT INTO turns (${TURN_INSERT_COLUMNS.join(', ')})
       VALUES ${turnTuples.join(', ')}
       ON CONFLICT (org_id, request_id) DO NOTHING
       RETURNING org_id, session_id
     ), counted (org, session, errors, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens,
                 reasoning_tokens, cost_usd, seen, model, end_session, strikes, detected) AS (
       VALUES ${counterTuples.join(', ')}
     )
     UPDATE sessions AS s SET
       turn_count                  = s.turn_count + 1,
       error_count                 = s.error_count + c.errors,
       total_input_tokens          = s.total_input_tokens + c.input_tokens,
       total_output_tokens         = s.total_output_tokens + c.output_tokens,
       total_cache_read_tokens     = s.total_cache_read_tokens + c.cache_read_tokens,
       total_cache_creation_tokens = s.total_cache_creation_tokens + c.cache_creation_tokens,
       total_reasoning_tokens      = s.total_reasoning_tokens + c.reasoning_tokens,
       total_cost_usd              = s.total_cost_usd + c.cost_usd,
       -- Only the newest turn names the model (a late retry of an older turn does not).
       last_model = CASE WHEN c.seen >= s.last_seen_at THEN COALESCE(c.model, s.last_model)
                         ELSE s.last_model END,
       ended_at   = CASE WHEN c.end_session THEN s.last_seen_at ELSE s.ended_at END,
       end_reason = CASE WHEN c.end_session THEN 'client' ELSE s.end_reason END,
       -- NULL: the turn takes no part in loop detection and leaves the run as it was.
       loop_strikes     = COALESCE(c.strikes, s.loop_strikes),
       loop_detected_at = CASE WHEN c.detected THEN c.seen ELSE s.loop_detected_at END
     FROM counted AS c
     -- A round has one turn per session, so a new turns row of that session is this one.
     WHERE s.org_id = c.org AND s.id = c.session
       AND EXISTS (SELECT 1 FROM new_turns n WHERE n.org_id = c.org AND n.session_id = c.session)
     RETURNING s.id`,
    values,
  )
  // The same request committed by another transaction since our lookup: retrying returns it.
  if (rows.length !== round.length) throw new TransactionRaceError('same request_id already committed')
}
