/**
 * The read side of the store: list, show, turns, transcript and delete of sessions, each scoped by
 * org_id. Written against SqlSession/Driver, so the HTTP API, the page and the CLI share one SQL
 * dialect on Postgres and PGlite. Results are plain JSON-ready objects (ISO timestamps, numbers).
 */
import { z } from 'zod'
import type { ProviderTiming } from '../providers/types.js'
import type { Driver, SqlSession } from './driver.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Ids that are not UUIDs name no session: callers get "not found" instead of a SQL error. */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}

/** Timestamps leave SQL as ISO text, so both drivers (pg: Date, PGlite: its own parsing) agree. */
const iso = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`

// ---------------------------------------------------------------------------------------------
// Sessions

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

interface SessionRow {
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

const SESSION_COLUMNS = `s.id, s.harness_id, s.harness_session_id, s.session_source, s.auth_subject, s.name, s.cwd,
  s.harness_version, s.parent_session_id, s.is_placeholder, s.harness_metadata,
  ${iso('s.started_at')} AS started_at, ${iso('s.last_seen_at')} AS last_seen_at, ${iso('s.ended_at')} AS ended_at,
  s.end_reason, s.turn_count, s.error_count, s.total_input_tokens::float8 AS total_input_tokens,
  s.total_output_tokens::float8 AS total_output_tokens, s.total_cache_read_tokens::float8 AS total_cache_read_tokens,
  s.total_cache_creation_tokens::float8 AS total_cache_creation_tokens,
  s.total_reasoning_tokens::float8 AS total_reasoning_tokens, s.total_cost_usd::float8 AS total_cost_usd, s.last_model,
  s.loop_strikes, ${iso('s.loop_detected_at')} AS loop_detected_at`

function toSummary(row: SessionRow): SessionSummary {
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

// ---------------------------------------------------------------------------------------------
// listSessions: filters, sorting and keyset pagination

export const SESSION_SORTS = ['last_seen', 'cost', 'tokens', 'turns'] as const
export type SessionSort = (typeof SESSION_SORTS)[number]
export const SORT_ORDERS = ['asc', 'desc'] as const
export type SortOrder = (typeof SORT_ORDERS)[number]

export const MAX_PAGE_SIZE = 200
export const DEFAULT_PAGE_SIZE = 50

/**
 * Each sort key: its SQL, the SQL that renders it as exact text for the cursor, the cast that turns
 * that text back, and the shape the text must have (checked before it reaches SQL).
 */
const SORT_KEYS: Record<
  SessionSort,
  { expr: string; text: string; cast: string; shape: RegExp; valid?: (key: string) => boolean }
> = {
  last_seen: {
    expr: 's.last_seen_at',
    // Microseconds: the cursor must hold the exact stored value, not a millisecond rounding of it.
    text: `to_char(s.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    cast: 'timestamptz',
    shape: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/,
    // A real instant: the date survives a round trip through Date (no month 13, no February 30).
    valid: (k) => {
      const ms = Date.parse(`${k.slice(0, 23)}Z`)
      return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 23) === k.slice(0, 23)
    },
  },
  cost: {
    expr: 's.total_cost_usd',
    text: 's.total_cost_usd::text',
    cast: 'numeric',
    shape: /^\d{1,10}(\.\d{1,10})?$/,
  },
  tokens: {
    expr: '(s.total_input_tokens + s.total_output_tokens)',
    text: '(s.total_input_tokens + s.total_output_tokens)::text',
    cast: 'bigint',
    shape: /^\d{1,18}$/,
  },
  turns: { expr: 's.turn_count', text: 's.turn_count::text', cast: 'integer', shape: /^\d{1,9}$/ },
}

export interface SessionFilters {
  harness?: string
  authSubject?: string
  /** last_seen_at >= since */
  since?: Date
  /** last_seen_at < until */
  until?: Date
  status?: SessionStatus
  /** Children of this session. */
  parentId?: string
}

export interface ListSessionsOptions extends SessionFilters {
  /** Default last_seen. */
  sort?: SessionSort
  /** Default desc. */
  order?: SortOrder
  /** 1..MAX_PAGE_SIZE, default DEFAULT_PAGE_SIZE. */
  limit?: number
  /** nextCursor of the previous page, listed with the same sort and order. */
  cursor?: string
}

export interface SessionPage {
  sessions: SessionSummary[]
  /** Opaque; null on the last page. */
  nextCursor: string | null
}

/** A cursor that is not one this module wrote, or one written for another sort or order. */
export class InvalidCursorError extends Error {
  constructor(reason: string) {
    super(`invalid cursor: ${reason}`)
    this.name = 'InvalidCursorError'
  }
}

const cursorSchema = z.object({
  s: z.enum(SESSION_SORTS),
  o: z.enum(SORT_ORDERS),
  k: z.string(),
  i: z.string().regex(UUID),
})
type Cursor = z.infer<typeof cursorSchema>

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url')
}

export function decodeCursor(text: string, sort: SessionSort, order: SortOrder): Cursor {
  let json: unknown
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error('not base64url')
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError('not a cursor of this API')
  }
  const parsed = cursorSchema.safeParse(json)
  if (!parsed.success) throw new InvalidCursorError('not a cursor of this API')
  const cursor = parsed.data
  if (cursor.s !== sort || cursor.o !== order) {
    throw new InvalidCursorError(
      `it continues sort=${cursor.s} order=${cursor.o}, not sort=${sort} order=${order}`,
    )
  }
  const key = SORT_KEYS[sort]
  if (!key.shape.test(cursor.k) || !(key.valid?.(cursor.k) ?? true)) {
    throw new InvalidCursorError('its sort key is malformed')
  }
  return cursor
}

/**
 * One page of the org's sessions (placeholders excluded), ordered by the sort key and then by id.
 *
 * Pagination is keyset, not offset: a page is "the next `limit` rows after (key, id) of the last
 * row seen", so what other rows do never moves a row across the cursor. Every sort key only grows
 * (last_seen_at takes the GREATEST, counters and cost only add), which gives this guarantee while
 * sessions are inserted and updated during paging:
 *   - a session that is not inserted or updated during the paging appears exactly once;
 *   - a changed session can only move toward the end of an ascending listing and toward the start
 *     of a descending one. So with order=desc (the default) no session ever appears twice, and one
 *     updated before the cursor reached it is skipped (it is now above the cursor: a new first page
 *     shows it); with order=asc nothing is skipped, and a session updated after it was seen can
 *     appear again further on, with its new values.
 * A session inserted during paging shows up iff its key falls after the cursor.
 */
export async function listSessions(
  db: SqlSession,
  orgId: string,
  options: ListSessionsOptions = {},
): Promise<SessionPage> {
  const sort = options.sort ?? 'last_seen'
  const order = options.order ?? 'desc'
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
  const key = SORT_KEYS[sort]
  const params: unknown[] = [orgId]
  const param = (value: unknown): string => {
    params.push(value)
    return `$${params.length}`
  }
  const where = ['s.org_id = $1', 'NOT s.is_placeholder']
  if (options.harness !== undefined) where.push(`s.harness_id = ${param(options.harness)}`)
  if (options.authSubject !== undefined) where.push(`s.auth_subject = ${param(options.authSubject)}`)
  if (options.since !== undefined) where.push(`s.last_seen_at >= ${param(options.since)}`)
  if (options.until !== undefined) where.push(`s.last_seen_at < ${param(options.until)}`)
  if (options.status === 'active') where.push('s.ended_at IS NULL')
  if (options.status === 'ended') where.push('s.ended_at IS NOT NULL')
  if (options.parentId !== undefined) {
    if (!isUuid(options.parentId)) return { sessions: [], nextCursor: null }
    where.push(`s.parent_session_id = ${param(options.parentId)}`)
  }
  if (options.cursor !== undefined) {
    const cursor = decodeCursor(options.cursor, sort, order)
    const after = order === 'desc' ? '<' : '>'
    where.push(`(${key.expr}, s.id) ${after} (${param(cursor.k)}::${key.cast}, ${param(cursor.i)}::uuid)`)
  }
  const direction = order === 'desc' ? 'DESC' : 'ASC'
  const { rows } = await db.query<SessionRow & { sort_key: string }>(
    `SELECT ${SESSION_COLUMNS}, ${key.text} AS sort_key
     FROM sessions s
     WHERE ${where.join(' AND ')}
     ORDER BY ${key.expr} ${direction}, s.id ${direction}
     LIMIT ${limit + 1}`,
    params,
  )
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    sessions: page.map(toSummary),
    nextCursor:
      rows.length > limit && last ? encodeCursor({ s: sort, o: order, k: last.sort_key, i: last.id }) : null,
  }
}

// ---------------------------------------------------------------------------------------------
// getSession

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
  const { rows } = await db.query<SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM sessions s WHERE s.org_id = $1 AND s.id = $2`,
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

// ---------------------------------------------------------------------------------------------
// getTurns

export interface TurnRecord {
  id: string
  turnIndex: number
  requestId: string
  /** The thread within the session (a subagent), or null for the main thread. */
  threadId: string | null
  /** A subagent call's parent: the turn whose response asked for it (same session), or null. */
  parentTurnId: string | null
  provider: string
  api: string
  model: string | null
  responseModel: string | null
  statusCode: number | null
  isStreaming: boolean
  isComplete: boolean
  stopReason: string | null
  /** null means "not reported", never 0. */
  usage: {
    input: number | null
    output: number | null
    cacheRead: number | null
    cacheCreation: number | null
    reasoning: number | null
    /** Components of cacheCreation by cache TTL (Anthropic). */
    cacheCreation5m: number | null
    cacheCreation1h: number | null
    /** Requests the call made to a server-side web search tool. */
    webSearchRequests: number | null
    status: string
  }
  /** USD; null when the model's price is unknown. */
  costUsd: number | null
  latencyMs: number | null
  ttftMs: number | null
  /**
   * What the provider said the call took, nanoseconds as reported (Ollama: totalNs, loadNs,
   * promptEvalNs, evalNs); null when it reported none. latencyMs/ttftMs are the sidecar's own.
   */
  providerTiming: ProviderTiming | null
  startedAt: string
  requestLeafHash: string | null
  responseHash: string | null
  /** Every choice's response node in index order (the first is responseHash); null with one choice. */
  choiceHashes: string[] | null
  providerResponseId: string | null
  /** An HTTP status >= 400 or an error the provider reported (the same rule as the session's error_count). */
  isError: boolean
  error: { type: string | null; message: string | null } | null
}

interface TurnRow {
  id: string
  turn_index: number
  request_id: string
  thread_id: string | null
  parent_turn_id: string | null
  provider: string
  api: string
  model: string | null
  response_model: string | null
  status_code: number | null
  is_streaming: boolean
  is_complete: boolean
  stop_reason: string | null
  input_tokens: number | null
  output_tokens: number | null
  cache_read_tokens: number | null
  cache_creation_tokens: number | null
  reasoning_tokens: number | null
  cache_creation_5m_tokens: number | null
  cache_creation_1h_tokens: number | null
  web_search_requests: number | null
  usage_status: string
  cost_usd: number | null
  latency_ms: number | null
  ttft_ms: number | null
  provider_timing: ProviderTiming | null
  started_at: string
  request_leaf_hash: string | null
  response_hash: string | null
  choice_hashes: string[] | null
  provider_response_id: string | null
  error_type: string | null
  error_message: string | null
}

const nullableNumber = (value: number | string | null): number | null =>
  value === null ? null : Number(value)

function toTurn(row: TurnRow): TurnRecord {
  const hasError = row.error_type !== null || row.error_message !== null
  return {
    id: row.id,
    turnIndex: Number(row.turn_index),
    requestId: row.request_id,
    threadId: row.thread_id,
    parentTurnId: row.parent_turn_id,
    provider: row.provider,
    api: row.api,
    model: row.model,
    responseModel: row.response_model,
    statusCode: nullableNumber(row.status_code),
    isStreaming: row.is_streaming,
    isComplete: row.is_complete,
    stopReason: row.stop_reason,
    usage: {
      input: nullableNumber(row.input_tokens),
      output: nullableNumber(row.output_tokens),
      cacheRead: nullableNumber(row.cache_read_tokens),
      cacheCreation: nullableNumber(row.cache_creation_tokens),
      reasoning: nullableNumber(row.reasoning_tokens),
      cacheCreation5m: nullableNumber(row.cache_creation_5m_tokens),
      cacheCreation1h: nullableNumber(row.cache_creation_1h_tokens),
      webSearchRequests: nullableNumber(row.web_search_requests),
      status: row.usage_status,
    },
    costUsd: nullableNumber(row.cost_usd),
    latencyMs: nullableNumber(row.latency_ms),
    ttftMs: nullableNumber(row.ttft_ms),
    providerTiming: row.provider_timing ?? null,
    startedAt: row.started_at,
    requestLeafHash: row.request_leaf_hash,
    responseHash: row.response_hash,
    choiceHashes: row.choice_hashes,
    providerResponseId: row.provider_response_id,
    isError: hasError || (row.status_code !== null && Number(row.status_code) >= 400),
    error: hasError ? { type: row.error_type, message: row.error_message } : null,
  }
}

export const MAX_TURNS_PAGE = 5000
export const DEFAULT_TURNS_PAGE = 1000

export interface TurnsOptions {
  /** Only turns with turn_index > afterIndex (the previous page's nextAfterIndex). */
  afterIndex?: number
  /** 1..MAX_TURNS_PAGE, default DEFAULT_TURNS_PAGE. */
  limit?: number
}

export interface TurnsPage {
  turns: TurnRecord[]
  /** Pass as afterIndex for the next page; null on the last one. */
  nextAfterIndex: number | null
}

/** The session's turns in turn_index order; null when the org has no such session. */
export async function getTurns(
  db: SqlSession,
  orgId: string,
  sessionId: string,
  options: TurnsOptions = {},
): Promise<TurnsPage | null> {
  if (!(await sessionExists(db, orgId, sessionId))) return null
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_TURNS_PAGE), 1), MAX_TURNS_PAGE)
  const { rows } = await db.query<TurnRow>(
    `SELECT id, turn_index, request_id, thread_id, parent_turn_id, provider, api, model, response_model, status_code,
            is_streaming, is_complete, stop_reason, input_tokens::float8 AS input_tokens,
            output_tokens::float8 AS output_tokens, cache_read_tokens::float8 AS cache_read_tokens,
            cache_creation_tokens::float8 AS cache_creation_tokens, reasoning_tokens::float8 AS reasoning_tokens,
            cache_creation_5m_tokens::float8 AS cache_creation_5m_tokens,
            cache_creation_1h_tokens::float8 AS cache_creation_1h_tokens, web_search_requests,
            usage_status, cost_usd::float8 AS cost_usd, latency_ms, ttft_ms, provider_timing, ${iso('started_at')} AS started_at,
            request_leaf_hash, response_hash, choice_hashes, provider_response_id, error_type, error_message
     FROM turns WHERE org_id = $1 AND session_id = $2 AND turn_index > $3
     ORDER BY turn_index LIMIT ${limit + 1}`,
    [orgId, sessionId, options.afterIndex ?? -1],
  )
  const turns = rows.slice(0, limit).map(toTurn)
  return { turns, nextAfterIndex: rows.length > limit ? (turns.at(-1)?.turnIndex ?? null) : null }
}

async function sessionExists(db: SqlSession, orgId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false
  const { rows } = await db.query('SELECT 1 FROM sessions WHERE org_id = $1 AND id = $2', [orgId, id])
  return rows.length > 0
}

// ---------------------------------------------------------------------------------------------
// getTranscript: the conversation rebuilt from the content-addressed node chain

/** One stored block as hashed (src/session/projection.ts): `type` plus its fields. */
export type TranscriptBlock = { type: string } & Record<string, unknown>

export interface TranscriptMessage {
  hash: string
  parentHash: string | null
  role: string
  /** Empty when the sidecar ran with content storage off. */
  blocks: TranscriptBlock[]
  contentStored: boolean
  /** Turns whose response is this message. */
  responseOf: number[]
  /** Turns whose request ended with this message (a turn without a response ends here). */
  requestOf: number[]
}

export interface TranscriptBranch {
  /** 0-based, in order of the first turn that reached the branch. */
  index: number
  /** The branch this one forks from; null for a conversation of its own (a new root). */
  forkOf: number | null
  /** The last message shared with forkOf (the fork point); null for a root branch. */
  forkAfterHash: string | null
  /** The messages after the fork point, root- or fork-first to leaf. */
  messages: TranscriptMessage[]
  /** The first message's parent is not stored (content deleted, or written by a lost transaction). */
  missingParentHash: string | null
}

export interface Transcript {
  sessionId: string
  /**
   * The message tree as branches: the first is the conversation as first seen; every fork (two
   * turns whose chains diverge) adds a branch holding only the messages after the shared prefix.
   */
  branches: TranscriptBranch[]
  /** Turns that recorded no messages at all (an unparsable request). */
  turnsWithoutMessages: number[]
}

interface NodeRow {
  hash: string
  parent_hash: string | null
  role: string
  content: unknown
}

function blocksOf(content: unknown): { blocks: TranscriptBlock[]; stored: boolean } {
  const inner = (content as { content?: unknown } | null)?.content
  if (!Array.isArray(inner)) return { blocks: [], stored: content !== null && content !== undefined }
  const blocks = inner.filter(
    (block): block is TranscriptBlock =>
      typeof block === 'object' && block !== null && typeof (block as { type?: unknown }).type === 'string',
  )
  return { blocks, stored: true }
}

/** Every node on the chains of the given leaves, walked up through parent_hash inside one org. */
async function chainNodes(db: SqlSession, orgId: string, leaves: string[]): Promise<NodeRow[]> {
  if (leaves.length === 0) return []
  const { rows } = await db.query<NodeRow>(
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

export interface TranscriptTurnInput {
  turnIndex: number
  requestLeafHash: string | null
  responseHash: string | null
  /** All choices' response nodes when there were several (the first is responseHash). */
  choiceHashes?: string[] | null
}

export interface TranscriptNodeInput {
  hash: string
  parentHash: string | null
  role: string
  content: unknown
}

/**
 * Builds the branches from turns (in turn_index order) and the nodes on their chains. Each message
 * is ordered by the first turn that reached it; walking the tree from the roots, a node's earliest
 * child continues the branch and each later child starts a new branch forking after it.
 */
export function buildTranscript(
  sessionId: string,
  turns: readonly TranscriptTurnInput[],
  nodes: readonly TranscriptNodeInput[],
): Transcript {
  const byHash = new Map(nodes.map((node) => [node.hash, node]))
  const messages = new Map<string, TranscriptMessage>()
  for (const node of nodes) {
    const { blocks, stored } = blocksOf(node.content)
    messages.set(node.hash, {
      hash: node.hash,
      parentHash: node.parentHash,
      role: node.role,
      blocks,
      contentStored: stored,
      responseOf: [],
      requestOf: [],
    })
  }
  // firstTurn: the lowest turn index whose chain contains the node. Turns come in index order, so
  // a walk up stops at the first node an earlier turn already claimed (its ancestors are claimed too).
  // claimOrder breaks ties within a turn: its answer before its other choices.
  const firstTurn = new Map<string, number>()
  const claimOrder = new Map<string, number>()
  const turnsWithoutMessages: number[] = []
  for (const turn of turns) {
    const choices = turn.choiceHashes ?? (turn.responseHash ? [turn.responseHash] : [])
    for (const hash of new Set(choices)) messages.get(hash)?.responseOf.push(turn.turnIndex)
    if (turn.requestLeafHash) messages.get(turn.requestLeafHash)?.requestOf.push(turn.turnIndex)
    if (!turn.responseHash && !turn.requestLeafHash) turnsWithoutMessages.push(turn.turnIndex)
    // From the request leaf too: the response node may be the one that is not stored.
    for (const leaf of [turn.responseHash, turn.requestLeafHash, ...choices]) {
      for (
        let hash = leaf;
        hash && byHash.has(hash) && !firstTurn.has(hash);
        hash = byHash.get(hash)!.parentHash
      ) {
        firstTurn.set(hash, turn.turnIndex)
        claimOrder.set(hash, claimOrder.size)
      }
    }
  }
  const order = (a: string, b: string): number =>
    (firstTurn.get(a) ?? 0) - (firstTurn.get(b) ?? 0) || (claimOrder.get(a) ?? 0) - (claimOrder.get(b) ?? 0)
  const children = new Map<string, string[]>()
  const roots: string[] = []
  for (const hash of firstTurn.keys()) {
    const parent = byHash.get(hash)!.parentHash
    if (parent && firstTurn.has(parent)) {
      const list = children.get(parent) ?? []
      list.push(hash)
      children.set(parent, list)
    } else roots.push(hash)
  }
  for (const list of children.values()) list.sort(order)

  // Pending branch starts, kept in first-turn order so branch numbers follow the conversation.
  const pending: Array<{ start: string; forkOf: number | null; forkAfter: string | null }> = roots
    .sort(order)
    .map((start) => ({ start, forkOf: null, forkAfter: null }))
  const branches: TranscriptBranch[] = []
  while (pending.length > 0) {
    pending.sort((a, b) => order(a.start, b.start))
    const { start, forkOf, forkAfter } = pending.shift()!
    const index = branches.length
    const parentHash = byHash.get(start)!.parentHash
    const branch: TranscriptBranch = {
      index,
      forkOf,
      forkAfterHash: forkAfter,
      messages: [],
      missingParentHash: forkAfter === null && parentHash !== null ? parentHash : null,
    }
    for (let hash: string | undefined = start; hash; ) {
      branch.messages.push(messages.get(hash)!)
      const next: string[] = children.get(hash) ?? []
      for (const other of next.slice(1)) pending.push({ start: other, forkOf: index, forkAfter: hash })
      hash = next[0]
    }
    branches.push(branch)
  }
  return { sessionId, branches, turnsWithoutMessages }
}

// ---------------------------------------------------------------------------------------------
// deleteSession

export interface DeleteResult {
  sessionId: string
  turnsDeleted: number
  nodesDeleted: number
  /** Nodes this session wrote first that other sessions' chains still use: kept, handed to one of them. */
  nodesKept: number
  /** Children whose parent link was cleared (they are not deleted). */
  childrenDetached: number
}

/**
 * Deletes a session and its turns in one transaction; null when the org has no such session.
 *
 * Nodes: nodes.session_id only records the FIRST session that wrote a node; other sessions reach
 * the same node by hash from their own turns. So a node this session wrote is kept when a turn of
 * another session of the org has it on its chain (its session_id passes to the lowest such
 * session id), and deleted otherwise. Nodes other sessions wrote are never touched. Children stay,
 * with their parent link cleared. If the same harness session sends another turn later, it becomes
 * a new session with a new id.
 *
 * A writer committing a turn that re-uses one of these nodes at the very moment of the delete can
 * find it gone afterwards; every turn re-inserts its whole chain, so that session's next turn
 * restores the node, and the transcript marks the gap (missingParentHash) until then.
 */
export async function deleteSession(driver: Driver, orgId: string, id: string): Promise<DeleteResult | null> {
  if (!isUuid(id)) return null
  return driver.transaction(async (tx) => {
    const { rows: found } = await tx.query(
      'SELECT id FROM sessions WHERE org_id = $1 AND id = $2 FOR UPDATE',
      [orgId, id],
    )
    if (found.length === 0) return null
    // down: this session's nodes and everything below them; up: from the other sessions' turn ends
    // inside `down` back up to those nodes, carrying which session reached them.
    const { rows: kept } = await tx.query<{ hash: string; owner: string }>(
      `WITH RECURSIVE
       down(hash) AS (
         SELECT hash FROM nodes WHERE org_id = $1 AND session_id = $2
         UNION
         SELECT n.hash FROM down JOIN nodes n ON n.org_id = $1 AND n.parent_hash = down.hash
       ),
       up(hash, session_id) AS (
         SELECT e.hash, t.session_id
         FROM turns t CROSS JOIN LATERAL
           unnest(ARRAY[t.request_leaf_hash, t.response_hash] || COALESCE(t.choice_hashes, '{}')) AS e(hash)
         WHERE t.org_id = $1 AND t.session_id <> $2 AND e.hash IN (SELECT hash FROM down)
         UNION
         SELECT n.parent_hash, up.session_id FROM up JOIN nodes n ON n.org_id = $1 AND n.hash = up.hash
         WHERE n.parent_hash IN (SELECT hash FROM down)
       )
       SELECT up.hash, min(up.session_id::text) AS owner
       FROM up JOIN nodes n ON n.org_id = $1 AND n.hash = up.hash AND n.session_id = $2
       GROUP BY up.hash`,
      [orgId, id],
    )
    if (kept.length > 0) {
      await tx.query(
        `UPDATE nodes n SET session_id = k.owner::uuid
         FROM jsonb_to_recordset($3::jsonb) AS k(hash text, owner text)
         WHERE n.org_id = $1 AND n.session_id = $2 AND n.hash = k.hash`,
        [orgId, id, JSON.stringify(kept)],
      )
    }
    const detached = await tx.query(
      'UPDATE sessions SET parent_session_id = NULL WHERE org_id = $1 AND parent_session_id = $2',
      [orgId, id],
    )
    const turns = await tx.query('DELETE FROM turns WHERE org_id = $1 AND session_id = $2', [orgId, id])
    const nodes = await tx.query('DELETE FROM nodes WHERE org_id = $1 AND session_id = $2', [orgId, id])
    await tx.query('DELETE FROM sessions WHERE org_id = $1 AND id = $2', [orgId, id])
    return {
      sessionId: id,
      turnsDeleted: turns.rowCount,
      nodesDeleted: nodes.rowCount,
      nodesKept: kept.length,
      childrenDetached: detached.rowCount,
    }
  })
}
