/**
 * The built-in price table: USD per million tokens per model family, each with its dated source.
 * Models whose price could not be confirmed are left out (see docs/pricing.md), never guessed.
 */
import type { ModelPrice, PriceTable } from './schema.js'

// Sources. "read" dates are when the page copy was consulted for this table.
const ANTHROPIC_PRICING =
  'https://platform.claude.com/docs/en/about-claude/pricing (model pricing table; read 2026-11-21)'
const ANTHROPIC_PRICING_PREVIOUS =
  'https://platform.claude.com/docs/en/docs/about-claude/pricing (copy listing Opus 4.6 … Haiku 3; read 2026-11-21)'
const ANTHROPIC_PRICING_LEGACY =
  'https://docs.anthropic.com/en/docs/about-claude/pricing (copy listing Sonnet 3.5 and the long context table; read 2026-11-21)'
const ANTHROPIC_SONNET_5 =
  'https://platform.claude.com/docs/zh-CN/models/sonnet-5/overview (Pricing box; read 2026-11-21)'
const OPENAI_MODEL_PAGE = (id: string) =>
  `https://developers.openai.com/api/docs/models/${id} (Text tokens table; read 2026-11-21)`
const OPENAI_PRICING_CROSSCHECKED = (where: string) =>
  `https://developers.openai.com/api/docs/pricing (official page copy not retrievable; values cross-checked against ${where}; read 2026-11-21)`
const GEMINI_PRICING_CROSSCHECKED = (where: string) =>
  `https://ai.google.dev/gemini-api/docs/pricing (Paid tier, Standard; official page copy not retrievable; values cross-checked against ${where}; read 2026-11-21)`

/** Anthropic prices list all five columns; the 1-hour write is 2x input, the 5-minute write 1.25x. */
function anthropic(
  input: number,
  cacheWrite5m: number,
  cacheWrite1h: number,
  cacheRead: number,
  output: number,
  source: string,
): ModelPrice {
  return { input, cacheWrite5m, cacheWrite1h, cacheRead, output, source }
}

/**
 * Sonnet 4 / 4.5 with the 1M context window: above 200K input tokens the whole request is billed at
 * $6 / $22.50 (ANTHROPIC_PRICING_LEGACY, "Long context pricing"). The tier's cache prices are the
 * documented cache multipliers (5m write 1.25x, 1h write 2x, read 0.1x) applied to the $6 input price.
 */
const SONNET_LONG_CONTEXT = [
  { aboveInputTokens: 200_000, input: 6, cacheWrite5m: 7.5, cacheWrite1h: 12, cacheRead: 0.6, output: 22.5 },
]

const OPUS_45_TO_5 = (): ModelPrice => anthropic(5, 6.25, 10, 0.5, 25, ANTHROPIC_PRICING)
const OPUS_4_AND_41 = (): ModelPrice => anthropic(15, 18.75, 30, 1.5, 75, ANTHROPIC_PRICING_PREVIOUS)
const SONNET_3_TO_46 = (source: string): ModelPrice => anthropic(3, 3.75, 6, 0.3, 15, source)

export const DEFAULT_PRICES: PriceTable = {
  anthropic: {
    'claude-fable-5': anthropic(10, 12.5, 20, 1, 50, ANTHROPIC_PRICING),
    'claude-opus-5': OPUS_45_TO_5(),
    'claude-opus-4-8': OPUS_45_TO_5(),
    'claude-opus-4-7': OPUS_45_TO_5(),
    'claude-opus-4-6': OPUS_45_TO_5(),
    'claude-opus-4-5': OPUS_45_TO_5(),
    'claude-opus-4-1': OPUS_4_AND_41(),
    'claude-opus-4': OPUS_4_AND_41(),
    'claude-opus-4-0': OPUS_4_AND_41(),
    'claude-sonnet-5': anthropic(2, 2.5, 4, 0.2, 10, ANTHROPIC_SONNET_5),
    'claude-sonnet-4-6': SONNET_3_TO_46(ANTHROPIC_PRICING_PREVIOUS),
    'claude-sonnet-4-5': { ...SONNET_3_TO_46(ANTHROPIC_PRICING_PREVIOUS), tiers: SONNET_LONG_CONTEXT },
    'claude-sonnet-4': { ...SONNET_3_TO_46(ANTHROPIC_PRICING_PREVIOUS), tiers: SONNET_LONG_CONTEXT },
    'claude-sonnet-4-0': { ...SONNET_3_TO_46(ANTHROPIC_PRICING_PREVIOUS), tiers: SONNET_LONG_CONTEXT },
    'claude-3-7-sonnet': SONNET_3_TO_46(ANTHROPIC_PRICING_PREVIOUS),
    'claude-3-5-sonnet': SONNET_3_TO_46(ANTHROPIC_PRICING_LEGACY),
    'claude-haiku-4-5': anthropic(1, 1.25, 2, 0.1, 5, ANTHROPIC_PRICING_PREVIOUS),
    'claude-3-5-haiku': anthropic(0.8, 1, 1.6, 0.08, 4, ANTHROPIC_PRICING_PREVIOUS),
    'claude-3-haiku': anthropic(0.25, 0.3, 0.5, 0.03, 1.25, ANTHROPIC_PRICING_PREVIOUS),
  },
  openai: {
    'gpt-5.5': {
      input: 5,
      cacheRead: 0.5,
      output: 30,
      source: OPENAI_PRICING_CROSSCHECKED(
        'vercel.com/ai-gateway/models/gpt-5.5 and apidog.com GPT-5.5 guide',
      ),
    },
    'gpt-5': {
      input: 1.25,
      cacheRead: 0.125,
      output: 10,
      source: `${OPENAI_MODEL_PAGE('gpt-5-codex')}, "Quick comparison" row GPT-5`,
    },
    'gpt-5-nano': { input: 0.05, cacheRead: 0.005, output: 0.4, source: OPENAI_MODEL_PAGE('gpt-5-nano') },
    'gpt-4.1': {
      input: 2,
      cacheRead: 0.5,
      output: 8,
      source: OPENAI_PRICING_CROSSCHECKED(
        'vercel.com AI Gateway gpt-4.1 providers (OpenAI row) and helicone.ai',
      ),
    },
    'gpt-4.1-mini': {
      input: 0.4,
      cacheRead: 0.1,
      output: 1.6,
      source: OPENAI_PRICING_CROSSCHECKED('litellm price gist 2025-04-14 and oG-Memory rate_cards.yaml'),
    },
    'gpt-4o': {
      input: 2.5,
      cacheRead: 1.25,
      output: 10,
      source: OPENAI_PRICING_CROSSCHECKED('openai-models crate and CommitBrief wiki'),
    },
    'gpt-4o-mini': {
      input: 0.15,
      cacheRead: 0.075,
      output: 0.6,
      source: OPENAI_PRICING_CROSSCHECKED(
        'openai-models crate, CommitBrief wiki and oG-Memory rate_cards.yaml',
      ),
    },
    'gpt-4': { input: 30, output: 60, source: OPENAI_MODEL_PAGE('gpt-4') },
    o1: { input: 15, cacheRead: 7.5, output: 60, source: OPENAI_PRICING_CROSSCHECKED('openai-models crate') },
    'o3-mini': {
      input: 1.1,
      cacheRead: 0.55,
      output: 4.4,
      source: OPENAI_PRICING_CROSSCHECKED('appatalks/chatgpt-html#82 quoting the pricing table'),
    },
    'o4-mini': {
      input: 1.1,
      cacheRead: 0.275,
      output: 4.4,
      source: OPENAI_PRICING_CROSSCHECKED('helicone.ai (OpenAI row) and RooCodeInc/Roo-Code#2691'),
    },
  },
  gemini: {
    'gemini-3-pro-preview': {
      input: 2,
      output: 12,
      tiers: [{ aboveInputTokens: 200_000, input: 4, output: 18 }],
      source: GEMINI_PRICING_CROSSCHECKED('aifreeapi.com Gemini API pricing 2026 guide'),
    },
    'gemini-2.5-pro': {
      input: 1.25,
      output: 10,
      tiers: [{ aboveInputTokens: 200_000, input: 2.5, output: 15 }],
      source: GEMINI_PRICING_CROSSCHECKED('deploybase.ai Gemini API pricing 2026 and morphllm.com'),
    },
    'gemini-2.5-flash': {
      input: 0.3,
      output: 2.5,
      source: GEMINI_PRICING_CROSSCHECKED('deploybase.ai and morphllm.com'),
    },
    'gemini-2.5-flash-lite': {
      input: 0.1,
      output: 0.4,
      source: GEMINI_PRICING_CROSSCHECKED('morphllm.com and nicolalazzari.ai'),
    },
    'gemini-2.0-flash': {
      input: 0.1,
      output: 0.4,
      source: GEMINI_PRICING_CROSSCHECKED('morphllm.com (deprecated, shut down 2026-06-01)'),
    },
  },
}
