/** A session's turns, one page in turn_index order, as the API and the page show them. */
import type { ProviderTiming } from '../../providers/types.js'
import type { SqlSession } from '../driver.js'
import { iso, sessionExists } from './sql.js'

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

interface TurnSelectRow {
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

function toTurn(row: TurnSelectRow): TurnRecord {
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
  const { rows } = await db.query<TurnSelectRow>(
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
