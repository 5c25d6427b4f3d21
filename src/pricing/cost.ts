/**
 * Cost in USD of one turn from its normalized Usage (OpenTelemetry semantics: inputTokens includes
 * cache reads and writes, outputTokens includes reasoning). Unknown price → null, never 0.
 */
import type { Provider, Usage } from '../providers/types.js'
import { findModelPrice } from './model-match.js'
import { DEFAULT_PRICES } from './prices.js'
import type { ModelPrice, PriceTable, TokenPrices } from './schema.js'

/** The prices of the highest tier whose threshold the prompt exceeds, else the base prices. */
export function pricesForPrompt(price: ModelPrice, promptTokens: number): TokenPrices {
  let chosen: TokenPrices = price
  let chosenThreshold = 0
  for (const tier of price.tiers ?? []) {
    if (promptTokens > tier.aboveInputTokens && tier.aboveInputTokens > chosenThreshold) {
      chosen = tier
      chosenThreshold = tier.aboveInputTokens
    }
  }
  return chosen
}

/** tokens × USD per million tokens, or null when there are tokens but no price for them. */
function part(tokens: number, usdPerMTok: number | undefined): number | null {
  if (tokens === 0) return 0
  return usdPerMTok === undefined ? null : tokens * usdPerMTok
}

/**
 * USD, kept as a plain number rounded to 1e-12 USD: every table price has at most 3 decimals per
 * million tokens, so this removes float noise (0.1 + 0.2) without losing any real precision.
 * Null when the model is unknown, no token count was reported, the counts contradict each other
 * (cache parts larger than the input) or a needed component price (e.g. cache write) is missing.
 * A side that was not reported (inputTokens or outputTokens null) counts as 0: a lower bound.
 */
export function costUsd(
  provider: Provider,
  model: string | null,
  usage: Usage,
  table: PriceTable = DEFAULT_PRICES,
): number | null {
  if (model === null || (usage.inputTokens === null && usage.outputTokens === null)) return null
  const match = findModelPrice(table, provider, model)
  if (match === null) return null

  const cacheRead = usage.cacheReadTokens ?? 0
  const cacheWrite = usage.cacheCreationTokens ?? 0
  const cacheWrite1h = Math.min(usage.cacheCreation1hTokens ?? 0, cacheWrite)
  const uncachedInput = usage.inputTokens === null ? 0 : usage.inputTokens - cacheRead - cacheWrite
  if (uncachedInput < 0) return null

  const prices = pricesForPrompt(match.price, usage.inputTokens ?? 0)
  const parts = [
    part(uncachedInput, prices.input),
    part(cacheRead, prices.cacheRead),
    part(cacheWrite - cacheWrite1h, prices.cacheWrite5m),
    part(cacheWrite1h, prices.cacheWrite1h),
    part(usage.outputTokens ?? 0, prices.output),
  ]
  let microUsd = 0
  for (const p of parts) {
    if (p === null) return null
    microUsd += p
  }
  return Math.round(microUsd * 1e6) / 1e12
}
