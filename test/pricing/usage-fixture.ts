/** Builds a normalized Usage for pricing tests: unspecified counts are null (not reported). */
import type { Usage } from '../../src/providers/types.js'

export function usage(counts: Partial<Usage>): Usage {
  return {
    inputTokens: null,
    outputTokens: null,
    cacheReadTokens: null,
    cacheCreationTokens: null,
    reasoningTokens: null,
    status: 'reported',
    ...counts,
  }
}
