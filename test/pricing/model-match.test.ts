/** Model lookup: exact families, dated snapshots to their family, and no silent fallback for new versions. */
import { describe, expect, it } from 'vitest'
import { findModelPrice, normalizeModelName } from '../../src/pricing/model-match.js'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import type { Provider } from '../../src/providers/types.js'

const familyOf = (provider: Provider, model: string) =>
  findModelPrice(DEFAULT_PRICES, provider, model)?.family

describe('findModelPrice', () => {
  it.each([
    ['anthropic', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['anthropic', 'claude-sonnet-4-20250514', 'claude-sonnet-4'],
    ['anthropic', 'claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['anthropic', 'claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
    ['anthropic', 'claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['anthropic', 'claude-sonnet-4-6', 'claude-sonnet-4-6'],
    ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['openai', 'gpt-4o-2024-08-06', 'gpt-4o'],
    ['openai', 'gpt-4-0613', 'gpt-4'],
    ['openai', 'gpt-5-nano-2025-08-07', 'gpt-5-nano'],
    ['openai', 'gpt-5.5-2026-04-23', 'gpt-5.5'],
    ['openai', 'GPT-4o', 'gpt-4o'],
    ['gemini', 'models/gemini-2.0-flash', 'gemini-2.0-flash'],
    ['gemini', 'gemini-2.0-flash-001', 'gemini-2.0-flash'],
    ['gemini', 'gemini-2.5-flash-lite', 'gemini-2.5-flash-lite'],
  ] as const)('%s %s → %s', (provider, model, family) => {
    expect(familyOf(provider, model)).toBe(family)
  })

  it.each([
    ['anthropic', 'claude-opus-4-9'],
    ['anthropic', 'claude-sonnet-4-5-haiku'],
    ['openai', 'gpt-4o-audio-preview'],
    ['openai', 'gpt-4-turbo'],
    ['openai', 'gpt-5-mini'],
    ['gemini', 'gemini-flash-latest'],
    ['gemini', 'gemini-2.5-flash-preview-05-20'],
  ] as const)('%s %s has no price rather than a neighbour family price', (provider, model) => {
    expect(familyOf(provider, model)).toBeUndefined()
  })
})

describe('normalizeModelName', () => {
  it('drops the models/ prefix and case', () => {
    expect(normalizeModelName(' models/Gemini-2.5-Pro ')).toBe('gemini-2.5-pro')
  })
})
