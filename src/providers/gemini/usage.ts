/** Gemini usage in the shared semantics (../usage.ts). */
import type { Usage } from '../types.js'
import { type Count, count, sum, withStatus } from '../usage.js'

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
