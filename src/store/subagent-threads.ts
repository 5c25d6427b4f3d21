/**
 * The subagent step of ingest, before turns are grouped by session: a call whose task prompt (its
 * first user message) is the prompt of a subagent tool call in an earlier parent response of the
 * same org and harness is a subagent call. It joins the parent's session as a thread of its own,
 * named by that tool call's id, and keeps a link to the parent turn. Explicit signals win: a thread
 * header keeps its thread, and an explicit session other than the parent's keeps its session.
 * After the turns rows exist, the batch's own spawns are recorded for later calls.
 */
import type { Turn } from '../session/turn.js'
import type { SqlSession } from './driver.js'
import type { IngestTurn } from './ingest.js'

/** The session source of a call that joined its parent's session through its task prompt. */
export const SUBAGENT_PROMPT_SOURCE = 'subagent_prompt'

/** A parent call's request for a subagent, committed or earlier in the batch. */
interface Spawn {
  toolUseId: string
  /** The parent turn's id, or null for a parent earlier in the batch (not inserted yet). */
  turnId: string | null
  /** The parent's request id: how ingest finds the id of a parent earlier in the batch. */
  requestId: string
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

async function committedSpawns(
  tx: SqlSession,
  keys: Array<{ org: string; harness: string; prompt_hash: string }>,
): Promise<Map<string, Spawn[]>> {
  const { rows } = await tx.query<{
    org: string
    harness: string
    prompt_hash: string
    tool_use_id: string
    turn_id: string
    request_id: string
    started_at: Date | string
    harness_session_id: string
  }>(
    `SELECT k.org, k.harness, k.prompt_hash, sp.tool_use_id, sp.turn_id, t.request_id, sp.started_at,
            s.harness_session_id
     FROM jsonb_to_recordset($1::jsonb) AS k(org uuid, harness text, prompt_hash text)
     JOIN subagent_spawns sp ON sp.org_id = k.org AND sp.prompt_hash = k.prompt_hash AND sp.harness_id = k.harness
     JOIN sessions s ON s.org_id = sp.org_id AND s.id = sp.session_id
     JOIN turns t ON t.org_id = sp.org_id AND t.id = sp.turn_id
     ORDER BY sp.started_at, sp.tool_use_id`,
    [JSON.stringify(keys)],
  )
  const spawns = new Map<string, Spawn[]>()
  for (const row of rows) {
    const key = promptKey(row.org, row.harness, row.prompt_hash)
    const list = spawns.get(key) ?? []
    list.push({
      toolUseId: row.tool_use_id,
      turnId: row.turn_id,
      requestId: row.request_id,
      startedAt: new Date(row.started_at).getTime(),
      harnessId: row.harness,
      harnessSessionId: row.harness_session_id,
    })
    spawns.set(key, list)
  }
  return spawns
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
  return spawn.turnId === null
    ? { ...item, turn: moved, parentRequestId: spawn.requestId }
    : { ...item, turn: moved }
}

/**
 * The items with each subagent call moved into its parent's session as its own thread, when the
 * parent's spawn is committed or earlier in `items`; otherwise the call keeps its envelope (it is
 * not re-homed later). One query, and none when no call has a task prompt.
 */
export async function attachSubagentCalls(
  tx: SqlSession,
  items: readonly IngestTurn[],
): Promise<readonly IngestTurn[]> {
  const keys = new Map<string, { org: string; harness: string; prompt_hash: string }>()
  for (const { turn } of items) {
    const prompt = taskPrompt(turn)
    if (prompt === null) continue
    const { orgId, harnessId } = turn.envelope
    keys.set(promptKey(orgId, harnessId, prompt), { org: orgId, harness: harnessId, prompt_hash: prompt })
  }
  if (keys.size === 0) return items

  const spawns = await committedSpawns(tx, [...keys.values()])
  // In queue order, so a subagent call finds a parent earlier in the same batch.
  return items.map((item) => {
    const { turn } = item
    const prompt = taskPrompt(turn)
    const env = turn.envelope
    const spawn =
      prompt === null
        ? null
        : chooseSpawn(turn, spawns.get(promptKey(env.orgId, env.harnessId, prompt)) ?? [])
    const placedItem = spawn === null ? item : asSubagentCall(item, spawn)
    const placed = placedItem.turn
    for (const own of turn.subagentSpawns ?? []) {
      const key = promptKey(env.orgId, placed.envelope.harnessId, own.promptHash)
      const list = spawns.get(key) ?? []
      list.push({
        toolUseId: own.toolUseId,
        turnId: null,
        requestId: turn.requestId,
        startedAt: turn.startedAt.getTime(),
        harnessId: placed.envelope.harnessId,
        harnessSessionId: placed.envelope.harnessSessionId,
      })
      spawns.set(key, list)
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
