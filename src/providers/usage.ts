/**
 * Token usage normalization to one semantics for every provider (OpenTelemetry GenAI): input
 * includes cached tokens, output includes reasoning; components a provider does not report stay
 * null, never 0. These are the shared pieces; each provider folder has its own usage.ts that takes the
 * provider's raw usage object as validated by its parser.
 */
import type { Usage } from './types.js'

export type Count = number | null | undefined

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

export function count(value: Count): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

/** Sum of the reported parts, or null when none of them was reported. */
export function sum(...values: Count[]): number | null {
  let total: number | null = null
  for (const value of values) {
    const n = count(value)
    if (n !== null) total = (total ?? 0) + n
  }
  return total
}

export function withStatus(usage: Omit<Usage, 'status'>): Usage {
  const reported = (usage.inputTokens !== null ? 1 : 0) + (usage.outputTokens !== null ? 1 : 0)
  return { ...usage, status: reported === 2 ? 'reported' : reported === 1 ? 'partial' : 'missing' }
}
