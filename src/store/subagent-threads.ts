/**
 * The subagent step of ingest, before turns are grouped by session: a call whose task prompt (its
 * first user message) is the prompt of a subagent tool call in an earlier parent response of the
 * same org and harness is a subagent call. It joins the parent's session as a thread of its own,
 * named by that tool call's id, and keeps a link to the parent turn. Explicit signals win: a thread
 * header keeps its thread, and an explicit session other than the parent's keeps its session.
 * After the turns rows exist, the batch's own spawns are recorded for later calls. Advisory locks
 * per prompt order a call after a parent transaction in flight (lockPrompts).
 */
import { hash } from 'node:crypto'
import type { Turn } from '../session/turn.js'
import type { SqlSession } from './driver.js'
import type { IngestTurn } from './ingest-turn.js'

/** The session source of a call that joined its parent's session through its task prompt. */
export const SUBAGENT_PROMPT_SOURCE = 'subagent_prompt'

/** A parent call's request for a subagent, committed or earlier in the batch. */
interface Spawn {
  toolUseId: string
  /** The parent turn's id, or null for a parent earlier in the batch (not inserted yet). */
  turnId: string | null
  /** The parent's request id, for a parent earlier in the batch: ingest finds its new turn id by it. */
  requestId: string | null
  startedAt: number
  harnessId: string
  harnessSessionId: string
}

const promptKey = (orgId: string, harnessId: string, hash: string): string =>
  JSON.stringify([orgId, harnessId, hash])

/** The prompt a call may be the subagent of, or null when it looks for none. */
function taskPrompt(turn: Turn): string | null {
  return turn.taskPromptHash ?? null
}

/** What a call looks for: its prompt, and its own session when that is explicit (else null). */
interface SpawnQuery {
  i: number
  org: string
  harness: string
  prompt_hash: string
  started: string
  session: string | null
}

/**
 * The best committed spawn of each query (by item index): the latest that started no later than the
 * call, in the call's own session when that is explicit. One indexed probe per query, LIMIT 1.
 */
async function committedSpawns(tx: SqlSession, queries: SpawnQuery[]): Promise<Map<number, Spawn>> {
  const { rows } = await tx.query<{
    i: number
    tool_use_id: string
    turn_id: string
    started_at: Date | string
    harness_id: string
    harness_session_id: string
  }>(
    `SELECT k.i, best.tool_use_id, best.turn_id, best.started_at, best.harness_id, best.harness_session_id
     FROM jsonb_to_recordset($1::jsonb)
       AS k(i integer, org uuid, harness text, prompt_hash text, started timestamptz, session text)
     CROSS JOIN LATERAL (
       SELECT sp.tool_use_id, sp.turn_id, sp.started_at, s.harness_id, s.harness_session_id
       FROM subagent_spawns sp
       JOIN sessions s ON s.org_id = sp.org_id AND s.id = sp.session_id
       WHERE sp.org_id = k.org AND sp.harness_id = k.harness AND sp.prompt_hash = k.prompt_hash
         AND sp.started_at <= k.started AND (k.session IS NULL OR s.harness_session_id = k.session)
       ORDER BY sp.started_at DESC, sp.tool_use_id DESC
       LIMIT 1
     ) AS best`,
    [JSON.stringify(queries)],
  )
  return new Map(
    rows.map((row) => [
      Number(row.i),
      {
        toolUseId: row.tool_use_id,
        turnId: row.turn_id,
        requestId: null,
        startedAt: new Date(row.started_at).getTime(),
        harnessId: row.harness_id,
        harnessSessionId: row.harness_session_id,
      },
    ]),
  )
}

/**
 * The spawn a call belongs to: one in the call's own session when its session is explicit (and
 * none elsewhere), else the latest that started no later than the call; null when none fits.
 */
function chooseSpawn(turn: Turn, candidates: readonly Spawn[]): Spawn | null {
  const env = turn.envelope
  const started = turn.startedAt.getTime()
  const synthetic = env.sessionSource === 'synthetic'
  let best: Spawn | null = null
  for (const spawn of candidates) {
    if (spawn.startedAt > started) continue
    if (!synthetic && spawn.harnessSessionId !== env.harnessSessionId) continue
    if (best === null || spawn.startedAt >= best.startedAt) best = spawn
  }
  return best
}

/**
 * The call in the spawn's session (chooseSpawn only picks another session for a synthetic one), as
 * the thread named by the tool call's id unless a header named its thread; linked to the parent turn.
 */
function asSubagentCall(item: IngestTurn, spawn: Spawn): IngestTurn {
  const { turn } = item
  const env = turn.envelope
  const moved: Turn = {
    ...turn,
    envelope: {
      ...env,
      harnessId: spawn.harnessId,
      harnessSessionId: spawn.harnessSessionId,
      sessionSource: env.sessionSource === 'synthetic' ? SUBAGENT_PROMPT_SOURCE : env.sessionSource,
      threadId: env.threadId ?? spawn.toolUseId,
    },
    parentTurnId: spawn.turnId,
  }
  return spawn.requestId === null
    ? { ...item, turn: moved }
    : { ...item, turn: moved, parentRequestId: spawn.requestId }
}

/** The advisory lock key of one prompt in one org and harness: 64 bits of its sha256. */
function promptLockKey(orgId: string, harnessId: string, promptHash: string): string {
  const digest = hash('sha256', `subagent-lock\n${promptKey(orgId, harnessId, promptHash)}`, 'hex')
  return BigInt.asIntN(64, BigInt(`0x${digest.slice(0, 16)}`)).toString()
}

/**
 * Orders a subagent call after a parent transaction in flight: a turn that asks for subagents holds
 * their prompts' locks exclusively until it commits, and a call with a task prompt takes its prompt's
 * lock shared before it looks, so it waits for that commit and then sees the spawn. Calls never wait
 * for each other (shared), and every lock is taken before any row lock, in key order, in one
 * statement, so no cycle can form with the session locks.
 */
async function lockPrompts(tx: SqlSession, items: readonly IngestTurn[]): Promise<void> {
  const exclusive = new Map<string, boolean>()
  for (const { turn } of items) {
    const { orgId, harnessId } = turn.envelope
    for (const spawn of turn.subagentSpawns ?? [])
      exclusive.set(promptLockKey(orgId, harnessId, spawn.promptHash), true)
    const prompt = taskPrompt(turn)
    if (prompt === null) continue
    const key = promptLockKey(orgId, harnessId, prompt)
    if (!exclusive.has(key)) exclusive.set(key, false)
  }
  if (exclusive.size === 0) return
  const keys = [...exclusive.keys()].sort((a, b) =>
    BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0,
  )
  // unnest keeps the array's order, so the locks are taken in key order.
  await tx.query(
    `SELECT count(CASE WHEN u.x THEN pg_advisory_xact_lock(u.k) ELSE pg_advisory_xact_lock_shared(u.k) END)
     FROM unnest($1::bigint[], $2::boolean[]) AS u(k, x)`,
    [keys, keys.map((key) => exclusive.get(key)!)],
  )
}

/**
 * The items with each subagent call moved into its parent's session as its own thread, when the
 * parent's spawn is committed or earlier in `items`; otherwise the call keeps its envelope (it is
 * not re-homed later). Two statements (the locks, the lookup), and none when no call has a task
 * prompt or asks for subagents.
 */
export async function attachSubagentCalls(
  tx: SqlSession,
  items: readonly IngestTurn[],
): Promise<readonly IngestTurn[]> {
  await lockPrompts(tx, items)
  const queries: SpawnQuery[] = []
  items.forEach(({ turn }, i) => {
    const prompt = taskPrompt(turn)
    if (prompt === null) return
    const env = turn.envelope
    queries.push({
      i,
      org: env.orgId,
      harness: env.harnessId,
      prompt_hash: prompt,
      started: turn.startedAt.toISOString(),
      session: env.sessionSource === 'synthetic' ? null : env.harnessSessionId,
    })
  })
  if (queries.length === 0) return items

  const committed = await committedSpawns(tx, queries)
  // The spawns of earlier items, by prompt: in queue order, a call finds a parent earlier in the batch.
  const inBatch = new Map<string, Spawn[]>()
  return items.map((item, i) => {
    const { turn } = item
    const prompt = taskPrompt(turn)
    const env = turn.envelope
    const own = committed.get(i)
    const candidates = prompt === null ? [] : (inBatch.get(promptKey(env.orgId, env.harnessId, prompt)) ?? [])
    const spawn =
      prompt === null ? null : chooseSpawn(turn, own === undefined ? candidates : [own, ...candidates])
    const placedItem = spawn === null ? item : asSubagentCall(item, spawn)
    const placed = placedItem.turn
    for (const asked of turn.subagentSpawns ?? []) {
      const key = promptKey(env.orgId, placed.envelope.harnessId, asked.promptHash)
      const list = inBatch.get(key) ?? []
      list.push({
        toolUseId: asked.toolUseId,
        turnId: null,
        requestId: turn.requestId,
        startedAt: turn.startedAt.getTime(),
        harnessId: placed.envelope.harnessId,
        harnessSessionId: placed.envelope.harnessSessionId,
      })
      inBatch.set(key, list)
    }
    return placedItem
  })
}

/** One committed turn's subagent requests, with the ids its turns row got. */
export interface SpawnRow {
  turn: Turn
  sessionId: string
  turnId: string
}

/**
 * Records the spawns of the transaction's new turns (sorted, so concurrent writers lock index
 * entries in one order); a repeat is ignored.
 */
export async function recordSpawns(tx: SqlSession, rows: readonly SpawnRow[]): Promise<void> {
  const spawns = rows.flatMap(({ turn, sessionId, turnId }) =>
    (turn.subagentSpawns ?? []).map((spawn) => ({
      org: turn.envelope.orgId,
      prompt_hash: spawn.promptHash,
      tool_use_id: spawn.toolUseId,
      harness: turn.envelope.harnessId,
      session: sessionId,
      turn: turnId,
      started: turn.startedAt.toISOString(),
    })),
  )
  if (spawns.length === 0) return
  spawns.sort((a, b) =>
    a.org !== b.org
      ? a.org < b.org
        ? -1
        : 1
      : a.prompt_hash !== b.prompt_hash
        ? a.prompt_hash < b.prompt_hash
          ? -1
          : 1
        : a.tool_use_id < b.tool_use_id
          ? -1
          : a.tool_use_id > b.tool_use_id
            ? 1
            : 0,
  )
  await tx.query(
    `INSERT INTO subagent_spawns (org_id, prompt_hash, tool_use_id, harness_id, session_id, turn_id, started_at)
     SELECT k.org, k.prompt_hash, k.tool_use_id, k.harness, k.session, k.turn, k.started
     FROM jsonb_to_recordset($1::jsonb)
       AS k(org uuid, prompt_hash text, tool_use_id text, harness text, session uuid, turn uuid, started timestamptz)
     ON CONFLICT (org_id, prompt_hash, tool_use_id) DO NOTHING`,
    [JSON.stringify(spawns)],
  )
}
