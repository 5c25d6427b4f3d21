/** One session as the read side shows it (its summary, parent and children), and the select they share. */

import { isUuid } from '../../session/identifiers.js'
import type { SqlSession } from '../driver.js'
import { iso } from './sql.js'

export type SessionStatus = 'active' | 'ended'

export interface TokenTotals {
  input: number
  output: number
  cacheRead: number
  cacheCreation: number
  reasoning: number
}

export interface SessionSummary {
  id: string
  harnessId: string
  harnessSessionId: string
  sessionSource: string | null
  authSubject: string | null
  name: string | null
  cwd: string | null
  harnessVersion: string | null
  parentSessionId: string | null
  /** Created for a child whose parent has not sent a turn yet; never listed, but readable by id. */
  placeholder: boolean
  metadata: Record<string, unknown>
  startedAt: string
  lastSeenAt: string
  endedAt: string | null
  endReason: 'client' | 'idle' | null
  status: SessionStatus
  turnCount: number
  errorCount: number
  tokens: TokenTotals
  costUsd: number
  lastModel: string | null
  /** Loop detection: the current run of identical consecutive requests, and when a run first reached 3. */
  loop: { strikes: number; detectedAt: string | null }
}

export interface SessionSelectRow {
  id: string
  harness_id: string
  harness_session_id: string
  session_source: string | null
  auth_subject: string | null
  name: string | null
  cwd: string | null
  harness_version: string | null
  parent_session_id: string | null
  is_placeholder: boolean
  harness_metadata: Record<string, unknown>
  started_at: string
  last_seen_at: string
  ended_at: string | null
  end_reason: 'client' | 'idle' | null
  turn_count: number
  error_count: number
  total_input_tokens: number
  total_output_tokens: number
  total_cache_read_tokens: number
  total_cache_creation_tokens: number
  total_reasoning_tokens: number
  total_cost_usd: number
  last_model: string | null
  loop_strikes: number
  loop_detected_at: string | null
}

export const SESSION_SELECT = `s.id, s.harness_id, s.harness_session_id, s.session_source, s.auth_subject, s.name, s.cwd,
  s.harness_version, s.parent_session_id, s.is_placeholder, s.harness_metadata,
  ${iso('s.started_at')} AS started_at, ${iso('s.last_seen_at')} AS last_seen_at, ${iso('s.ended_at')} AS ended_at,
  s.end_reason, s.turn_count, s.error_count, s.total_input_tokens::float8 AS total_input_tokens,
  s.total_output_tokens::float8 AS total_output_tokens, s.total_cache_read_tokens::float8 AS total_cache_read_tokens,
  s.total_cache_creation_tokens::float8 AS total_cache_creation_tokens,
  s.total_reasoning_tokens::float8 AS total_reasoning_tokens, s.total_cost_usd::float8 AS total_cost_usd, s.last_model,
  s.loop_strikes, ${iso('s.loop_detected_at')} AS loop_detected_at`

export function toSummary(row: SessionSelectRow): SessionSummary {
  return {
    id: row.id,
    harnessId: row.harness_id,
    harnessSessionId: row.harness_session_id,
    sessionSource: row.session_source,
    authSubject: row.auth_subject,
    name: row.name,
    cwd: row.cwd,
    harnessVersion: row.harness_version,
    parentSessionId: row.parent_session_id,
    placeholder: row.is_placeholder,
    metadata: row.harness_metadata,
    startedAt: row.started_at,
    lastSeenAt: row.last_seen_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    status: row.ended_at === null ? 'active' : 'ended',
    turnCount: Number(row.turn_count),
    errorCount: Number(row.error_count),
    tokens: {
      input: Number(row.total_input_tokens),
      output: Number(row.total_output_tokens),
      cacheRead: Number(row.total_cache_read_tokens),
      cacheCreation: Number(row.total_cache_creation_tokens),
      reasoning: Number(row.total_reasoning_tokens),
    },
    costUsd: Number(row.total_cost_usd),
    lastModel: row.last_model,
    loop: { strikes: Number(row.loop_strikes), detectedAt: row.loop_detected_at },
  }
}

export interface SessionRef {
  id: string
  harnessId: string
  harnessSessionId: string
  name: string | null
  placeholder: boolean
  status: SessionStatus
  lastSeenAt: string
  turnCount: number
}

export interface SessionDetail extends SessionSummary {
  parent: SessionRef | null
  /** The first MAX_CHILDREN children, oldest first; childCount counts them all. */
  children: SessionRef[]
  childCount: number
}

export const MAX_CHILDREN = 500

interface SessionRefRow {
  id: string
  harness_id: string
  harness_session_id: string
  name: string | null
  is_placeholder: boolean
  ended_at: string | null
  last_seen_at: string
  turn_count: number
}

const REF_COLUMNS = `s.id, s.harness_id, s.harness_session_id, s.name, s.is_placeholder, ${iso('s.ended_at')} AS ended_at,
  ${iso('s.last_seen_at')} AS last_seen_at, s.turn_count`

function toRef(row: SessionRefRow): SessionRef {
  return {
    id: row.id,
    harnessId: row.harness_id,
    harnessSessionId: row.harness_session_id,
    name: row.name,
    placeholder: row.is_placeholder,
    status: row.ended_at === null ? 'active' : 'ended',
    lastSeenAt: row.last_seen_at,
    turnCount: Number(row.turn_count),
  }
}

/** The session with its totals, its parent and its children; null when the org has no such session. */
export async function getSession(db: SqlSession, orgId: string, id: string): Promise<SessionDetail | null> {
  if (!isUuid(id)) return null
  const { rows } = await db.query<SessionSelectRow>(
    `SELECT ${SESSION_SELECT} FROM sessions s WHERE s.org_id = $1 AND s.id = $2`,
    [orgId, id],
  )
  const row = rows[0]
  if (!row) return null
  const parent = row.parent_session_id
    ? (
        await db.query<SessionRefRow>(
          `SELECT ${REF_COLUMNS} FROM sessions s WHERE s.org_id = $1 AND s.id = $2`,
          [orgId, row.parent_session_id],
        )
      ).rows[0]
    : undefined
  const { rows: children } = await db.query<SessionRefRow & { total: number }>(
    `SELECT ${REF_COLUMNS}, count(*) OVER () AS total FROM sessions s
     WHERE s.org_id = $1 AND s.parent_session_id = $2
     ORDER BY s.started_at, s.id LIMIT ${MAX_CHILDREN}`,
    [orgId, id],
  )
  return {
    ...toSummary(row),
    parent: parent ? toRef(parent) : null,
    children: children.map(toRef),
    childCount: Number(children[0]?.total ?? 0),
  }
}
