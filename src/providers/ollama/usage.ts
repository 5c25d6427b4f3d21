/** Ollama usage in the shared semantics (../usage.ts). */
import type { Usage } from '../types.js'
import { type Count, count, withStatus } from '../usage.js'

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
