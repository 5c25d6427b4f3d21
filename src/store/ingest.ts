/**
 * The body of the ingest transaction, for one turn or a batch of them (group commit): each Turn
 * becomes a session upsert (with its parent), its nodes and one turns row, and the session counters
 * grow only when that turns row is new. Every statement names org_id, so nothing reads or writes
 * across orgs. A batch costs about as many round trips as one turn: its turns go in "rounds" (the
 * k-th new turn of each session in round k), and each round is one statement per step.
 */
import { advanceLoopRun } from '../loop/loop-run.js'
import type { Turn } from '../session/turn.js'
import type { SqlSession } from './driver.js'
import { isErrorTurn } from './ingest-common.js'
import type { IngestTurn } from './ingest-turn.js'
import { batchNodesParameter, insertTurns, type NewTurnRow } from './insert-turns.js'
import { joinPreviousResponses } from './previous-response.js'
import { attachSubagentCalls, recordSpawns } from './subagent-threads.js'
import { insertTurnBodies } from './turn-bodies.js'
import { parentId, upsertSessions } from './upsert-sessions.js'

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
    const rows: NewTurnRow[] = turns.map((turn, j) => ({
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
