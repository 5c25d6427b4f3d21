/**
 * The body of the ingest transaction, for one turn or a batch of them (group commit): each Turn
 * becomes a session upsert (with its parent), its nodes and one turns row, and the session counters
 * grow only when that turns row is new. Every statement names org_id, so nothing reads or writes
 * across orgs. A batch costs about as many round trips as one turn: its turns go in "rounds" (the
 * k-th new turn of each session in round k), and each round is one statement per step.
 */
import { advanceLoopRun, type LoopRun } from '../loop/loop-run.js'
import type { SessionKey, Turn } from '../session/turn.js'
import type { SqlSession } from './driver.js'
import type { IngestTurn } from './ingest-turn.js'
import { storableJson, storableText } from './pg-text.js'
import { joinPreviousResponses } from './previous-response.js'
import { attachSubagentCalls, recordSpawns } from './subagent-threads.js'
import { insertTurnBodies } from './turn-bodies.js'

export interface IngestResult {
  sessionId: string
  turnId: string
  turnIndex: number
  /** false: this (org_id, request_id) was committed before; the ids are the original ones. */
  inserted: boolean
  /** This turn completed a run of identical loop hashes: the session is now flagged as looping. */
  loopDetected?: boolean
}

export interface IngestOptions {
  /**
   * Look for earlier commits of these requests first. Off on a first attempt: a repeat then fails
   * its turns insert, the transaction rolls back and the retry (with the lookup) returns the original,
   * so new turns, the common case, save a round trip.
   */
  lookupFirst: boolean
  /** The Buffers among the nodes are binary jsonb, and so is the statement's nodes parameter. */
  binary: boolean
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

const requestKey = (turn: Turn): string => JSON.stringify([turn.envelope.orgId, turn.requestId])

const sessionKey = (turn: Turn): string =>
  JSON.stringify([turn.envelope.orgId, turn.envelope.harnessId, turn.envelope.harnessSessionId])

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Session key order: every transaction locks its sessions in this order, so two cannot deadlock. */
function bySessionKey(a: Turn, b: Turn): number {
  const x = a.envelope
  const y = b.envelope
  return (
    compare(x.orgId, y.orgId) ||
    compare(x.harnessId, y.harnessId) ||
    compare(x.harnessSessionId, y.harnessSessionId)
  )
}

/** Numbered placeholders for one statement: `p(value)` appends the value and returns its `$n`. */
function parameters(): { values: unknown[]; p: (value: unknown) => string } {
  const values: unknown[] = []
  return { values, p: (value) => `$${values.push(value)}` }
}

async function findCommittedTurns(tx: SqlSession, turns: Turn[]): Promise<Map<string, IngestResult>> {
  const keys = turns.map((turn) => ({ org: turn.envelope.orgId, request_id: turn.requestId }))
  const { rows } = await tx.query<{
    org: string
    request_id: string
    id: string
    session_id: string
    turn_index: number
  }>(
    `SELECT k.org, k.request_id, t.id, t.session_id, t.turn_index
     FROM jsonb_to_recordset($1::jsonb) AS k(org text, request_id text)
     JOIN turns t ON t.org_id = k.org::uuid AND t.request_id = k.request_id`,
    [JSON.stringify(keys)],
  )
  const found = new Map<string, IngestResult>()
  for (const row of rows) {
    found.set(JSON.stringify([row.org, row.request_id]), {
      sessionId: row.session_id,
      turnId: row.id,
      turnIndex: row.turn_index,
      inserted: false,
      loopDetected: false,
    })
  }
  return found
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

function sameKey(a: SessionKey, b: SessionKey): boolean {
  return a.harnessId === b.harnessId && a.harnessSessionId === b.harnessSessionId
}

async function parentId(tx: SqlSession, turn: Turn, newId: () => string): Promise<string | null> {
  const env = turn.envelope
  const parent = env.parent && !sameKey(env.parent, env) ? env.parent : null
  return parent ? resolveParent(tx, env.orgId, parent, seenAt(turn), newId) : null
}

interface LockedSession {
  id: string
  nextTurnIndex: number
  loopStrikes: number
}

/**
 * Inserts or updates the sessions of one round (distinct keys, in key order) by their natural key and
 * locks their rows, in that order, for the rest of the transaction; turn_count read under that lock is
 * the next turn_index.
 */
async function upsertSessions(
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
 * The loop hash of each session's latest participating turn before `before`. Read under the session
 * row locks, so concurrent turns of one session see each other's hashes in turn_index order.
 */
async function previousLoopHashes(
  tx: SqlSession,
  keys: Array<{ org: string; session: string; before: number }>,
): Promise<Array<string | null>> {
  const { rows } = await tx.query<{ i: number; loop_hash: string | null }>(
    `SELECT k.i, (SELECT t.loop_hash FROM turns t
                  WHERE t.org_id = k.org AND t.session_id = k.session AND t.turn_index < k.before
                    AND t.loop_hash IS NOT NULL
                  ORDER BY t.turn_index DESC LIMIT 1) AS loop_hash
     FROM jsonb_to_recordset($1::jsonb) AS k(i integer, org uuid, session uuid, before integer)`,
    [JSON.stringify(keys.map((key, i) => ({ i, ...key })))],
  )
  const hashes: Array<string | null> = keys.map(() => null)
  for (const row of rows) hashes[Number(row.i)] = row.loop_hash
  return hashes
}

/** One new turn of a round, ready for its turns row and its session's counters. */
interface TurnRow {
  turn: Turn
  turnId: string
  session: LockedSession
  loopHash: string | null
  loop: LoopRun | null
  /** The turn whose response asked for this subagent call, or null. */
  parentTurnId: string | null
}

/** The nodes of several turns as one jsonb array of {org, session, i, nodes}: byte concatenation, no JSON pass. */
function batchNodesParameter(
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
async function insertTurns(tx: SqlSession, round: TurnRow[], nodes: Buffer | string | null): Promise<void> {
  const { values, p } = parameters()
  const turnTuples: string[] = []
  const counterTuples: string[] = []
  for (const { turn, turnId, session, loopHash, loop, parentTurnId } of round) {
    const usage = turn.usage
    turnTuples.push(
      `(${[
        turn.envelope.orgId,
        session.id,
        turnId,
        session.nextTurnIndex,
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
        usage.inputTokens,
        usage.outputTokens,
        usage.cacheReadTokens,
        usage.cacheCreationTokens,
        usage.reasoningTokens,
        usage.cacheCreation5mTokens ?? null,
        usage.cacheCreation1hTokens ?? null,
        usage.webSearchRequests ?? null,
        usage.status,
        turn.costUsd,
        turn.latencyMs === null ? null : Math.round(turn.latencyMs),
        turn.ttftMs === null ? null : Math.round(turn.ttftMs),
        turn.providerTiming ? JSON.stringify(turn.providerTiming) : null,
        turn.requestLeafHash,
        turn.responseHash,
        turn.choiceHashes ?? null,
        storableText(turn.providerResponseId),
        storableText(turn.errorType),
        storableText(turn.errorMessage),
        turn.startedAt,
        loopHash,
        parentTurnId,
      ]
        .map(p)
        .join(', ')})`,
    )
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
       INSERT INTO turns (org_id, session_id, id, turn_index, request_id, thread_id, provider, api, model,
                          response_model, status_code, is_streaming, is_complete, stop_reason, input_tokens,
                          output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens,
                          cache_creation_5m_tokens, cache_creation_1h_tokens, web_search_requests, usage_status,
                          cost_usd, latency_ms, ttft_ms, provider_timing, request_leaf_hash, response_hash, choice_hashes,
                          provider_response_id, error_type, error_message, started_at, loop_hash, parent_turn_id)
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

/**
 * Runs inside one READ COMMITTED transaction; the caller retries it on TransactionRaceError and
 * 40001/40P01. Returns one result per item, in input order; a request id repeated among the items or
 * committed before gets the original ids (inserted: false). A round holds the k-th new turn of each
 * session (queue order within a session), in session key order.
 */
export async function ingestTurnsInTransaction(
  tx: SqlSession,
  given: readonly IngestTurn[],
  newId: () => string,
  options: IngestOptions,
): Promise<IngestResult[]> {
  // Before anything groups turns by session: a continuation or a subagent call may move to another session.
  const items = await attachSubagentCalls(tx, await joinPreviousResponses(tx, given))
  const committed = options.lookupFirst
    ? await findCommittedTurns(
        tx,
        items.map((item) => item.turn),
      )
    : new Map<string, IngestResult>()
  const firstOfRequest = new Map<string, number>()
  const turnsOfSession = new Map<string, number>()
  const rounds: number[][] = []
  items.forEach((item, i) => {
    const key = requestKey(item.turn)
    if (committed.has(key) || firstOfRequest.has(key)) return
    firstOfRequest.set(key, i)
    const session = sessionKey(item.turn)
    const k = turnsOfSession.get(session) ?? 0
    turnsOfSession.set(session, k + 1)
    rounds[k] ??= []
    rounds[k].push(i)
  })

  const results = new Map<number, IngestResult>()
  // A parent earlier in the batch is in an earlier round (same session, earlier in queue order).
  const batchParentTurnId = (item: IngestTurn): string | null => {
    if (item.parentRequestId === undefined) return null
    const key = JSON.stringify([item.turn.envelope.orgId, item.parentRequestId])
    const first = firstOfRequest.get(key)
    return (
      committed.get(key)?.turnId ?? (first === undefined ? undefined : results.get(first)?.turnId) ?? null
    )
  }
  for (const [k, round] of rounds.entries()) {
    // Array.prototype.sort is stable, and a round has one turn per session.
    round.sort((a, b) => bySessionKey(items[a]!.turn, items[b]!.turn))
    const turns = round.map((i) => items[i]!.turn)
    const parents: Array<string | null> = []
    for (const turn of turns) parents.push(await parentId(tx, turn, newId))
    const sessions = await upsertSessions(tx, turns, parents, newId)
    const loopHashes = turns.map(participatingLoopHash)
    const looping = loopHashes.flatMap((hash, j) => (hash === null ? [] : [j]))
    // Reads only earlier turns (turn_index below ours), so it can run before our rows exist.
    const previous =
      looping.length === 0
        ? []
        : await previousLoopHashes(
            tx,
            looping.map((j) => ({
              org: turns[j]!.envelope.orgId,
              session: sessions[j]!.id,
              before: sessions[j]!.nextTurnIndex,
            })),
          )
    const loops = new Map(
      looping.map((j, n) => [
        j,
        advanceLoopRun(previous[n] ?? null, sessions[j]!.loopStrikes, loopHashes[j]!),
      ]),
    )
    const rows: TurnRow[] = turns.map((turn, j) => ({
      turn,
      turnId: newId(),
      session: sessions[j]!,
      loopHash: loopHashes[j]!,
      loop: loops.get(j) ?? null,
      parentTurnId: turn.parentTurnId ?? batchParentTurnId(items[round[j]!]!),
    }))
    round.forEach((i, j) => {
      const row = rows[j]!
      results.set(i, {
        sessionId: row.session.id,
        turnId: row.turnId,
        turnIndex: row.session.nextTurnIndex,
        inserted: true,
        loopDetected: row.loop?.detected ?? false,
      })
    })
    const last = k === rounds.length - 1
    const nodes = last
      ? batchNodesParameter(
          [...results.keys()]
            .sort((a, b) => a - b)
            .map((i) => ({
              orgId: items[i]!.turn.envelope.orgId,
              sessionId: results.get(i)!.sessionId,
              nodes: items[i]!.nodes,
            })),
          options.binary,
        )
      : null
    await insertTurns(tx, rows, nodes)
  }
  // After every turns row exists: each new turn that carries raw bodies gets its turn_bodies row.
  await insertTurnBodies(
    tx,
    [...results.entries()].flatMap(([i, result]) => {
      const bodies = items[i]!.turn.rawBodies
      return bodies ? [{ orgId: items[i]!.turn.envelope.orgId, turnId: result.turnId, bodies }] : []
    }),
  )

  // After every turns row exists: the subagents the new turns asked for, for the calls to come.
  await recordSpawns(
    tx,
    [...results.entries()].flatMap(([i, result]) => {
      const { turn } = items[i]!
      return turn.subagentSpawns?.length ? [{ turn, sessionId: result.sessionId, turnId: result.turnId }] : []
    }),
  )

  return items.map((item, i) => {
    const own = results.get(i)
    if (own) return own
    const key = requestKey(item.turn)
    const original = committed.get(key) ?? results.get(firstOfRequest.get(key)!)!
    return { ...original, inserted: false, loopDetected: false }
  })
}
