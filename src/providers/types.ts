/**
 * The normalized view of an LLM API exchange that every provider parser produces. Pure data:
 * the session layer hashes it, the store persists it. Providers own this file; changes must stay
 * compatible with src/session and src/store.
 */

export const APIS = [
  'openai.chat',
  'openai.responses',
  'anthropic.messages',
  'gemini.generate',
  'ollama.chat',
  'ollama.generate',
] as const
export type Api = (typeof APIS)[number]

/**
 * Who served a turn: the API's own provider (openai, anthropic, gemini, ollama), a vendor the host
 * named (openrouter, groq, ...; src/providers/hosts.ts) or a name from SESSIONTAP_PROVIDER_HOSTS.
 * Always matches PROVIDER_NAME in hosts.ts; the store's column is plain text.
 */
export type Provider = string

/** Why a request is not parsed as an LLM turn (detection never fails with an error). */
export const SKIP_REASONS = [
  'not_post', // turn endpoints are all POST
  'unknown_path', // no supported API ends this path
  'not_a_turn', // a supported API's side endpoint (count_tokens, responses/{id}, ...)
] as const
export type SkipReason = (typeof SKIP_REASONS)[number]

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; mediaType?: string; url?: string; data?: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; toolUseId: string; output: string | ContentBlock[]; isError: boolean }
  | { type: 'thinking'; text: string; signature?: string }
  /** A file the model reads: base64 (`data`), plain text (`text`), a URL or an uploaded file id. */
  | {
      type: 'document'
      mediaType?: string
      url?: string
      data?: string
      text?: string
      fileId?: string
      title?: string
    }
  /** Reasoning the provider encrypted: `data` is opaque, like a thinking signature. */
  | { type: 'redacted_thinking'; data: string }

export type Role = 'system' | 'user' | 'assistant' | 'tool'

export interface Message {
  role: Role
  content: ContentBlock[]
}

/** Session hints found in a request body. */
export interface BodySessionHints {
  /** Anthropic `metadata.user_id`, raw. */
  metadataUserId?: string
  /** The session id inside `metadata.user_id` (JSON `session_id` field or `_session_<uuid>` suffix). */
  metadataSessionId?: string
  /** OpenAI `prompt_cache_key`. */
  promptCacheKey?: string
  /** Responses `conversation` (id string or `{id}`). */
  conversationId?: string
  /** Gemini Code Assist `request.session_id` (gemini-cli's session id). */
  geminiSessionId?: string
  /** Responses `previous_response_id`. */
  previousResponseId?: string
}

export interface ParsedRequest {
  api: Api
  provider: Provider
  model: string | null
  stream: boolean
  /** System prompt blocks (Anthropic `system`, Responses `instructions`, Gemini `systemInstruction`,
   * OpenAI system/developer messages), or empty when there is none. */
  system: ContentBlock[]
  /** Conversation messages in order, system/developer messages excluded. */
  messages: Message[]
  toolCount: number
  hints: BodySessionHints
}

export const USAGE_STATUSES = ['reported', 'missing', 'partial'] as const
export type UsageStatus = (typeof USAGE_STATUSES)[number]

/**
 * OpenTelemetry GenAI semantics for every provider: inputTokens includes cached tokens
 * (cacheRead and cacheCreation are components of it); outputTokens includes reasoning.
 * null means "not reported", never 0.
 */
export interface Usage {
  inputTokens: number | null
  outputTokens: number | null
  cacheReadTokens: number | null
  cacheCreationTokens: number | null
  reasoningTokens: number | null
  /** Anthropic: the part of cacheCreationTokens written with the 1-hour TTL (priced higher). */
  cacheCreation1hTokens?: number | null
  /** Anthropic: the part of cacheCreationTokens written with the 5-minute TTL. */
  cacheCreation5mTokens?: number | null
  /** Anthropic server tool calls billed per request (usage.server_tool_use.web_search_requests). */
  webSearchRequests?: number | null
  status: UsageStatus
}

/**
 * Timings the provider itself reported for the call, in nanoseconds as sent (Ollama's done line:
 * total_duration, load_duration, prompt_eval_duration, eval_duration). A key is absent when not
 * reported; no provider field means null, not an empty object.
 */
export interface ProviderTiming {
  totalNs?: number
  loadNs?: number
  promptEvalNs?: number
  evalNs?: number
}

export interface ParsedResponse {
  /**
   * The assembled assistant message (the first choice or candidate), or null when no response was
   * produced (errors, a stream cut before anything arrived). A response that produced no content
   * (every token spent on reasoning) is a message with empty content, not null.
   */
  message: Message | null
  /**
   * The other choices (OpenAI `n` > 1) or candidates (Gemini `candidateCount` > 1), in index order
   * after the first; absent when there is one. stopReason is the first choice's.
   */
  alternatives?: Message[]
  model: string | null
  stopReason: string | null
  providerResponseId: string | null
  usage: Usage
  /** What the provider said the call took (Ollama); absent or null: not reported. */
  providerTiming?: ProviderTiming | null
  /** False when a stream was truncated or malformed; what was parsed is kept. */
  complete: boolean
  error: { type: string | null; message: string | null } | null
}
