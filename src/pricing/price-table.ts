/**
 * The shape of a price table (USD per million tokens, per provider and model family) and its loading:
 * the built-in table merged with an optional user override file, validated with zod.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { KNOWN_PROVIDERS } from '../providers/hosts.js'
import { DEFAULT_PRICES } from './prices.js'

const usdPerMTok = z.number().finite().nonnegative()

const tokenPricesShape = {
  /** Uncached input (prompt) tokens. */
  input: usdPerMTok,
  /** Output tokens, reasoning included. */
  output: usdPerMTok,
  /** Cache hits (Anthropic cache read, OpenAI/Gemini cached input). */
  cacheRead: usdPerMTok.optional(),
  /** Anthropic 5-minute cache write; also the price of a write whose TTL is not reported. */
  cacheWrite5m: usdPerMTok.optional(),
  /** Anthropic 1-hour cache write. */
  cacheWrite1h: usdPerMTok.optional(),
}

const tierSchema = z.strictObject({
  /** The tier applies when the prompt (usage.inputTokens, cache included) is above this many tokens. */
  aboveInputTokens: z.number().int().positive(),
  ...tokenPricesShape,
})

const modelPriceSchema = z.strictObject({
  ...tokenPricesShape,
  tiers: z.array(tierSchema).optional(),
  /** Where the price comes from (URL and date read); free text. */
  source: z.string().optional(),
})

/** provider -> model family -> price. Model keys are lower-case family ids (e.g. 'gpt-4o-mini'). */
export const priceTableSchema = z.partialRecord(
  z.enum(KNOWN_PROVIDERS),
  z.record(z.string().min(1), modelPriceSchema),
)

export type TokenPrices = z.infer<z.ZodObject<typeof tokenPricesShape>>
export type PriceTier = z.infer<typeof tierSchema>
export type ModelPrice = z.infer<typeof modelPriceSchema>
export type PriceTable = z.infer<typeof priceTableSchema>

export class PriceFileError extends Error {
  override name = 'PriceFileError'
}

/** "anthropic → claude-x → input: expected number" for every issue, so the bad entry is named. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join(' → ') : '(top level)'
      return `  ${where}: ${issue.message}`
    })
    .join('\n')
}

/** Parses override JSON text; throws PriceFileError naming the file and every bad entry. */
export function parsePriceOverrides(text: string, origin: string): PriceTable {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new PriceFileError(`price file ${origin} is not valid JSON: ${(err as Error).message}`)
  }
  const parsed = priceTableSchema.safeParse(json)
  if (!parsed.success) {
    throw new PriceFileError(`price file ${origin} has invalid entries:\n${describeIssues(parsed.error)}`)
  }
  return parsed.data
}

/** Override entries replace a model's whole price (no field-wise merge: a half-old price would mislead). */
export function mergePriceTables(base: PriceTable, overrides: PriceTable): PriceTable {
  const merged: PriceTable = {}
  for (const provider of KNOWN_PROVIDERS) {
    const models = { ...base[provider], ...overrides[provider] }
    if (Object.keys(models).length > 0) {
      merged[provider] = Object.fromEntries(
        Object.entries(models).map(([model, price]) => [model.toLowerCase(), price]),
      )
    }
  }
  return merged
}

/**
 * The built-in table, with the override file's entries replacing or adding models when a path is
 * given (e.g. from SESSIONTAP_PRICES_FILE). Throws PriceFileError when the file is unreadable or invalid.
 */
export function loadPriceTable(overridePath?: string): PriceTable {
  if (overridePath === undefined || overridePath === '') return DEFAULT_PRICES
  let text: string
  try {
    text = readFileSync(overridePath, 'utf8')
  } catch (err) {
    throw new PriceFileError(`cannot read price file ${overridePath}: ${(err as Error).message}`)
  }
  return mergePriceTables(DEFAULT_PRICES, parsePriceOverrides(text, overridePath))
}
