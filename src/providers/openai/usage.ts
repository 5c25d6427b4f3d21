/** OpenAI Chat Completions and Responses usage in the shared semantics (../usage.ts). */
import type { Usage } from '../types.js'
import { type Count, count, withStatus } from '../usage.js'

export interface OpenAiChatUsage {
  prompt_tokens?: Count
  completion_tokens?: Count
  prompt_tokens_details?: { cached_tokens?: Count } | null
  completion_tokens_details?: { reasoning_tokens?: Count } | null
  /** DeepSeek's cache hits (prompt_tokens = hit + miss). */
  prompt_cache_hit_tokens?: Count
}

/**
 * prompt_tokens already includes cached_tokens; completion_tokens already includes reasoning.
 * DeepSeek reports its cache hits as prompt_cache_hit_tokens (also part of prompt_tokens).
 */
export function openAiChatUsage(u: OpenAiChatUsage): Usage {
  return withStatus({
    inputTokens: count(u.prompt_tokens),
    outputTokens: count(u.completion_tokens),
    cacheReadTokens: count(u.prompt_tokens_details?.cached_tokens) ?? count(u.prompt_cache_hit_tokens),
    cacheCreationTokens: null,
    reasoningTokens: count(u.completion_tokens_details?.reasoning_tokens),
  })
}

export interface OpenAiResponsesUsage {
  input_tokens?: Count
  output_tokens?: Count
  input_tokens_details?: { cached_tokens?: Count } | null
  output_tokens_details?: { reasoning_tokens?: Count } | null
}

export function openAiResponsesUsage(u: OpenAiResponsesUsage): Usage {
  return withStatus({
    inputTokens: count(u.input_tokens),
    outputTokens: count(u.output_tokens),
    cacheReadTokens: count(u.input_tokens_details?.cached_tokens),
    cacheCreationTokens: null,
    reasoningTokens: count(u.output_tokens_details?.reasoning_tokens),
  })
}
