/** The shape of a price table: USD per million tokens, per provider and model family, as a zod schema. */
import { z } from 'zod'
import { KNOWN_PROVIDERS } from '../providers/hosts.js'

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
export type ModelPrice = z.infer<typeof modelPriceSchema>
export type PriceTable = z.infer<typeof priceTableSchema>
