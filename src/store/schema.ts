/**
 * The columns of each table the migrations create, in one list per table: the turns insert, the
 * session export and import, and the schema test (test/store/schema.test.ts, which compares them
 * with the migrated database) all read these. A migration that adds a column adds it here too.
 */

export const SESSIONS_COLUMNS = [
  'id',
  'org_id',
  'auth_subject',
  'harness_id',
  'harness_session_id',
  'session_source',
  'name',
  'cwd',
  'harness_version',
  'parent_session_id',
  'is_placeholder',
  'harness_metadata',
  'started_at',
  'last_seen_at',
  'ended_at',
  'end_reason',
  'turn_count',
  'error_count',
  'total_input_tokens',
  'total_output_tokens',
  'total_cache_read_tokens',
  'total_cache_creation_tokens',
  'total_reasoning_tokens',
  'total_cost_usd',
  'last_model',
  'created_at',
  'loop_strikes',
  'loop_detected_at',
] as const

export const TURNS_COLUMNS = [
  'id',
  'org_id',
  'session_id',
  'turn_index',
  'request_id',
  'thread_id',
  'provider',
  'api',
  'model',
  'response_model',
  'status_code',
  'is_streaming',
  'is_complete',
  'stop_reason',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_creation_tokens',
  'reasoning_tokens',
  'usage_status',
  'cost_usd',
  'latency_ms',
  'ttft_ms',
  'request_leaf_hash',
  'response_hash',
  'provider_response_id',
  'error_type',
  'error_message',
  'started_at',
  'created_at',
  'loop_hash',
  'cache_creation_5m_tokens',
  'cache_creation_1h_tokens',
  'web_search_requests',
  'choice_hashes',
  'provider_timing',
  'parent_turn_id',
] as const

export const NODES_COLUMNS = [
  'org_id',
  'hash',
  'parent_hash',
  'role',
  'content',
  'session_id',
  'created_at',
] as const

export const TURN_BODIES_COLUMNS = [
  'org_id',
  'turn_id',
  'encoding',
  'request',
  'request_size',
  'request_truncated',
  'response',
  'response_size',
  'response_truncated',
] as const

export const SUBAGENT_SPAWNS_COLUMNS = [
  'org_id',
  'prompt_hash',
  'tool_use_id',
  'harness_id',
  'session_id',
  'turn_id',
  'started_at',
] as const

export type SessionsColumn = (typeof SESSIONS_COLUMNS)[number]
export type TurnsColumn = (typeof TURNS_COLUMNS)[number]
export type NodesColumn = (typeof NODES_COLUMNS)[number]
export type TurnBodiesColumn = (typeof TURN_BODIES_COLUMNS)[number]
