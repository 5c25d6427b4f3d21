/**
 * costUsd against hand-computed values. Usage numbers of real corpus turns are written here as
 * literals (corpus-usage.test.ts checks them against the recordings); the arithmetic is in comments.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { costUsd, pricesForPrompt } from '../../src/pricing/cost.js'
import type { PriceTable } from '../../src/pricing/schema.js'
import { parseResponse } from '../../src/providers/index.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import { CORPUS_DIR, CORPUS_PRESENT } from '../helpers/corpus.js'
import { usage } from './usage-fixture.js'

describe('costUsd on real corpus turns', () => {
  // anthropic-claudecode-session-turn03, claude-sonnet-4-6: input_tokens 2, cache_read 33153,
  // cache_creation 2005 (all of it ephemeral_1h), output 396 (248 of it thinking).
  // OTel inputTokens = 2 + 33153 + 2005 = 35160.
  const claudeCodeTurn = usage({
    inputTokens: 35160,
    cacheReadTokens: 33153,
    cacheCreationTokens: 2005,
    outputTokens: 396,
    reasoningTokens: 248,
  })

  it('prices an Anthropic Claude Code turn with cache read and 1-hour cache write', () => {
    // 2×3 + 33153×0.30 + 2005×6 + 396×15 = 6 + 9945.9 + 12030 + 5940 = 27921.9 µUSD
    expect(
      costUsd('anthropic', 'claude-sonnet-4-6', { ...claudeCodeTurn, cacheCreation1hTokens: 2005 }),
    ).toBe(0.0279219)
  })

  it('prices cache writes of unreported TTL at the 5-minute price', () => {
    // 2×3 + 33153×0.30 + 2005×3.75 + 396×15 = 6 + 9945.9 + 7518.75 + 5940 = 23410.65 µUSD
    expect(costUsd('anthropic', 'claude-sonnet-4-6', claudeCodeTurn)).toBe(0.02341065)
  })

  it('prices a dated Anthropic snapshot (anthropic-messages-nonstream-system-01)', () => {
    // claude-sonnet-4-20250514: 20×3 + 13×15 = 60 + 195 = 255 µUSD
    const turn = usage({ inputTokens: 20, outputTokens: 13, cacheReadTokens: 0, cacheCreationTokens: 0 })
    expect(costUsd('anthropic', 'claude-sonnet-4-20250514', turn)).toBe(0.000255)
  })

  it('prices an OpenAI chat turn (openai-chat-nonstream-gzip-tools-turn01)', () => {
    // gpt-4o-mini-2024-07-18: prompt 92 (cached 0), completion 17: 92×0.15 + 17×0.60 = 13.8 + 10.2 = 24 µUSD
    const turn = usage({ inputTokens: 92, outputTokens: 17, cacheReadTokens: 0, reasoningTokens: 0 })
    expect(costUsd('openai', 'gpt-4o-mini-2024-07-18', turn)).toBe(0.000024)
  })

  it('prices reasoning inside output once (openai-chat-stream-usage-01)', () => {
    // gpt-5-nano-2025-08-07: prompt 12, completion 100 of which reasoning 100: 12×0.05 + 100×0.40 = 40.6 µUSD
    const turn = usage({ inputTokens: 12, outputTokens: 100, cacheReadTokens: 0, reasoningTokens: 100 })
    expect(costUsd('openai', 'gpt-5-nano-2025-08-07', turn)).toBe(0.0000406)
  })

  it('prices a Gemini turn with thinking tokens (gemini-generatecontent-nonstream-system-01)', () => {
    // gemini-3-pro-preview: prompt 15, candidates 8 + thoughts 106 = 114 output: 15×2 + 114×12 = 1398 µUSD
    const turn = usage({ inputTokens: 15, outputTokens: 114, reasoningTokens: 106 })
    expect(costUsd('gemini', 'models/gemini-3-pro-preview', turn)).toBe(0.001398)
  })
})

describe('costUsd with cached input', () => {
  it('subtracts cached tokens from the input and prices them at the cached price', () => {
    // gpt-4.1: 10000 prompt of which 8000 cached, 500 out: 2000×2 + 8000×0.5 + 500×8 = 12000 µUSD
    const turn = usage({ inputTokens: 10_000, cacheReadTokens: 8000, outputTokens: 500 })
    expect(costUsd('openai', 'gpt-4.1-2025-04-14', turn)).toBe(0.012)
  })

  it('is null when tokens need a price the model does not have', () => {
    // No cache price is listed for gemini-2.5-flash, so a cached read cannot be priced.
    const turn = usage({ inputTokens: 1000, cacheReadTokens: 600, outputTokens: 10 })
    expect(costUsd('gemini', 'gemini-2.5-flash', turn)).toBeNull()
  })

  it('is null when the cache parts exceed the input (contradictory usage)', () => {
    const turn = usage({ inputTokens: 100, cacheReadTokens: 90, cacheCreationTokens: 20, outputTokens: 1 })
    expect(costUsd('anthropic', 'claude-haiku-4-5', turn)).toBeNull()
  })
})

describe('costUsd long-context tiers', () => {
  it('keeps the base price at exactly the 200K threshold (Sonnet 4.5)', () => {
    // 200000×3 + 1000×15 = 615000 µUSD
    const turn = usage({ inputTokens: 200_000, outputTokens: 1000 })
    expect(costUsd('anthropic', 'claude-sonnet-4-5-20250929', turn)).toBe(0.615)
  })

  it('switches every token to the long-context price above 200K (Sonnet 4.5)', () => {
    // 200001×6 + 1000×22.50 = 1200006 + 22500 = 1222506 µUSD
    const turn = usage({ inputTokens: 200_001, outputTokens: 1000 })
    expect(costUsd('anthropic', 'claude-sonnet-4-5-20250929', turn)).toBe(1.222506)
  })

  it('counts cache reads and writes toward the threshold and prices them in the tier', () => {
    // prompt 250000 = 10000 uncached + 200000 read + 40000 written (5m); 2000 out:
    // 10000×6 + 200000×0.60 + 40000×7.50 + 2000×22.50 = 60000 + 120000 + 300000 + 45000 = 525000 µUSD
    const turn = usage({
      inputTokens: 250_000,
      cacheReadTokens: 200_000,
      cacheCreationTokens: 40_000,
      outputTokens: 2000,
    })
    expect(costUsd('anthropic', 'claude-sonnet-4-20250514', turn)).toBe(0.525)
  })

  it('switches Gemini 2.5 Pro above 200K prompt tokens', () => {
    // below: 200000×1.25 + 1000×10 = 260000 µUSD; above: 250000×2.50 + 1000×15 = 640000 µUSD
    expect(costUsd('gemini', 'gemini-2.5-pro', usage({ inputTokens: 200_000, outputTokens: 1000 }))).toBe(
      0.26,
    )
    expect(costUsd('gemini', 'gemini-2.5-pro', usage({ inputTokens: 250_000, outputTokens: 1000 }))).toBe(
      0.64,
    )
  })

  it('picks the highest tier the prompt exceeds', () => {
    const price = {
      input: 1,
      output: 2,
      tiers: [
        { aboveInputTokens: 500, input: 5, output: 6 },
        { aboveInputTokens: 100, input: 3, output: 4 },
      ],
    }
    expect(pricesForPrompt(price, 100).input).toBe(1)
    expect(pricesForPrompt(price, 101).input).toBe(3)
    expect(pricesForPrompt(price, 501).input).toBe(5)
  })
})

describe('costUsd unknowns', () => {
  const turn = usage({ inputTokens: 10, outputTokens: 10 })

  it('is null for an unknown model, never 0', () => {
    expect(costUsd('openai', 'gpt-unknown-9', turn)).toBeNull()
    expect(costUsd('ollama', 'llama3.1', turn)).toBeNull()
    expect(costUsd('openai', null, turn)).toBeNull()
  })

  it('is null for a model of another provider', () => {
    expect(costUsd('openai', 'claude-sonnet-4-5', turn)).toBeNull()
  })

  it('is null when neither input nor output was reported', () => {
    expect(costUsd('openai', 'gpt-4o', usage({ status: 'missing' }))).toBeNull()
  })

  it('prices the reported side when only one side was reported (a lower bound)', () => {
    // gpt-4o: 1000 output × 10 = 10000 µUSD
    expect(costUsd('openai', 'gpt-4o', usage({ outputTokens: 1000, status: 'partial' }))).toBe(0.01)
  })

  it('uses the table it is given', () => {
    const table: PriceTable = { ollama: { 'llama3.1': { input: 0, output: 0 } } }
    expect(costUsd('ollama', 'llama3.1', turn, table)).toBe(0)
    expect(costUsd('openai', 'gpt-4o', turn, table)).toBeNull()
  })
})

describe.skipIf(!CORPUS_PRESENT)('cost of a recorded turn, through the real parser', () => {
  it('Claude Code turn 03: the parser reports the 1-hour cache writes, and the cost uses their price', () => {
    const dir = path.join(CORPUS_DIR, 'anthropic-claudecode-session-turn03')
    const body = decodeBody([readFileSync(path.join(dir, 'response.body'))], 'gzip').bytes
    const parsed = parseResponse({
      api: 'anthropic.messages',
      status: 200,
      contentType: 'text/event-stream',
      body,
      request: null,
    })
    expect(parsed.usage.cacheCreation1hTokens).toBe(2005)
    expect(costUsd('anthropic', parsed.model, parsed.usage)).toBe(0.0279219)
  })
})
