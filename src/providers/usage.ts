/**
 * Token usage normalization to one semantics for every provider (OpenTelemetry GenAI): input
 * includes cached tokens, output includes reasoning; components a provider does not report stay
 * null, never 0. Each function takes the provider's raw usage object as validated by its parser.
 */
import type { Usage } from './types.js'

type Count = number | null | undefined

export function missingUsage(): Usage {
  return {
    inputTokens: null,
    outputTokens: null,
    cacheReadTokens: null,
    cacheCreationTokens: null,
    reasoningTokens: null,
    status: 'missing',
  }
}

function count(value: Count): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/** Sum of the reported parts, or null when none of them was reported. */
function sum(...values: Count[]): number | null {
  let total: number | null = null
  for (const value of values) {
    const n = count(value)
    if (n !== null) total = (total ?? 0) + n
  }
  return total
}

function withStatus(usage: Omit<Usage, 'status'>): Usage {
  const reported = (usage.inputTokens !== null ? 1 : 0) + (usage.outputTokens !== null ? 1 : 0)
  return { ...usage, status: reported === 2 ? 'reported' : reported === 1 ? 'partial' : 'missing' }
}

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

export interface GeminiUsage {
  promptTokenCount?: Count
  candidatesTokenCount?: Count
  cachedContentTokenCount?: Count
  thoughtsTokenCount?: Count
  toolUsePromptTokenCount?: Count
}

/**
 * promptTokenCount includes cachedContentTokenCount; thoughtsTokenCount is NOT part of
 * candidatesTokenCount and toolUsePromptTokenCount is not part of promptTokenCount, so both are added.
 */
export function geminiUsage(u: GeminiUsage): Usage {
  const hasOutput = count(u.candidatesTokenCount) !== null || count(u.thoughtsTokenCount) !== null
  return withStatus({
    inputTokens:
      count(u.promptTokenCount) !== null ? sum(u.promptTokenCount, u.toolUsePromptTokenCount) : null,
    outputTokens: hasOutput ? sum(u.candidatesTokenCount, u.thoughtsTokenCount) : null,
    cacheReadTokens: count(u.cachedContentTokenCount),
    cacheCreationTokens: null,
    reasoningTokens: count(u.thoughtsTokenCount),
  })
}

export interface OllamaUsage {
  prompt_eval_count?: Count
  eval_count?: Count
}

export function ollamaUsage(u: OllamaUsage): Usage {
  return withStatus({
    inputTokens: count(u.prompt_eval_count),
    outputTokens: count(u.eval_count),
    cacheReadTokens: null,
    cacheCreationTokens: null,
    reasoningTokens: null,
  })
}
