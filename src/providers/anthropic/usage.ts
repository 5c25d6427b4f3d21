/** Anthropic Messages usage in the shared semantics (../usage.ts). */
import type { Usage } from '../types.js'
import { type Count, count, sum, withStatus } from '../usage.js'

export interface AnthropicUsage {
  input_tokens?: Count
  output_tokens?: Count
  cache_read_input_tokens?: Count
  cache_creation_input_tokens?: Count
  /** The split of cache_creation_input_tokens by TTL; the 1-hour writes cost more. */
  cache_creation?: { ephemeral_5m_input_tokens?: Count; ephemeral_1h_input_tokens?: Count } | null
  /** Server tool calls the API ran and bills per request. */
  server_tool_use?: { web_search_requests?: Count } | null
  /** Sent with the thinking-token-count beta; thinking is part of output_tokens. */
  output_tokens_details?: { thinking_tokens?: Count } | null
}

/** Anthropic's input_tokens excludes both cache counts, so they are added back. */
export function anthropicUsage(u: AnthropicUsage): Usage {
  const hasInput = count(u.input_tokens) !== null
  return withStatus({
    inputTokens: hasInput
      ? sum(u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens)
      : null,
    outputTokens: count(u.output_tokens),
    cacheReadTokens: count(u.cache_read_input_tokens),
    cacheCreationTokens: count(u.cache_creation_input_tokens),
    reasoningTokens: count(u.output_tokens_details?.thinking_tokens),
    cacheCreation5mTokens: count(u.cache_creation?.ephemeral_5m_input_tokens),
    cacheCreation1hTokens: count(u.cache_creation?.ephemeral_1h_input_tokens),
    webSearchRequests: count(u.server_tool_use?.web_search_requests),
  })
}
