/** Override files: entries replace or add models; invalid files fail with a message naming the entry. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { costUsd } from '../../src/pricing/cost.js'
import { loadPriceTable, PriceFileError } from '../../src/pricing/load.js'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import { priceTableSchema } from '../../src/pricing/schema.js'
import { usage } from './usage-fixture.js'

const dir = mkdtempSync(path.join(tmpdir(), 'sessiontap-prices-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function priceFile(name: string, content: unknown): string {
  const file = path.join(dir, name)
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

function loadError(file: string): string {
  try {
    loadPriceTable(file)
  } catch (err) {
    expect(err).toBeInstanceOf(PriceFileError)
    return (err as Error).message
  }
  throw new Error(`expected ${file} to be rejected`)
}

describe('built-in table', () => {
  it('is valid against the override schema and every entry names its source', () => {
    expect(priceTableSchema.safeParse(DEFAULT_PRICES).success).toBe(true)
    for (const models of Object.values(DEFAULT_PRICES)) {
      for (const [model, price] of Object.entries(models)) {
        expect(price.source, model).toMatch(/^https:\/\/.+read \d{4}-\d{2}-\d{2}/)
      }
    }
  })

  it('is what loadPriceTable returns without an override path', () => {
    expect(loadPriceTable()).toBe(DEFAULT_PRICES)
    expect(loadPriceTable('')).toBe(DEFAULT_PRICES)
  })
})

describe('override file', () => {
  const file = priceFile('override.json', {
    openai: { 'gpt-4o-mini': { input: 1, output: 2 } },
    ollama: { 'Llama3.1': { input: 0, output: 0, source: 'local GPU' } },
  })
  const table = loadPriceTable(file)

  it('replaces a model price, snapshots included', () => {
    // 92×1 + 17×2 = 126 µUSD (built-in price would give 24 µUSD)
    expect(
      costUsd('openai', 'gpt-4o-mini-2024-07-18', usage({ inputTokens: 92, outputTokens: 17 }), table),
    ).toBe(0.000126)
  })

  it('replaces the whole entry: a price it leaves out is not taken from the built-in one', () => {
    const cached = usage({ inputTokens: 92, cacheReadTokens: 50, outputTokens: 17 })
    expect(costUsd('openai', 'gpt-4o-mini', cached, table)).toBeNull()
  })

  it('adds models and providers, case-insensitively', () => {
    expect(costUsd('ollama', 'llama3.1', usage({ inputTokens: 500, outputTokens: 50 }), table)).toBe(0)
  })

  it('keeps the other built-in models and leaves the built-in table untouched', () => {
    // gpt-4o: 100×2.50 + 10×10 = 350 µUSD
    expect(costUsd('openai', 'gpt-4o', usage({ inputTokens: 100, outputTokens: 10 }), table)).toBe(0.00035)
    expect(DEFAULT_PRICES.openai?.['gpt-4o-mini']?.input).toBe(0.15)
  })
})

describe('invalid override file', () => {
  it('names the bad entry and field', () => {
    const message = loadError(
      priceFile('bad-type.json', { openai: { 'gpt-4o': { input: '2.5', output: 10 } } }),
    )
    expect(message).toContain('bad-type.json')
    expect(message).toContain('openai → gpt-4o → input')
  })

  it('rejects a missing required price', () => {
    expect(loadError(priceFile('missing.json', { anthropic: { 'claude-x': { input: 1 } } }))).toContain(
      'anthropic → claude-x → output',
    )
  })

  it('rejects unknown fields, negative prices and unknown providers', () => {
    expect(
      loadError(priceFile('extra.json', { gemini: { 'gemini-x': { input: 1, output: 1, cached: 0.1 } } })),
    ).toMatch(/gemini → gemini-x.*cached/)
    expect(
      loadError(priceFile('negative.json', { openai: { 'gpt-x': { input: -1, output: 1 } } })),
    ).toContain('openai → gpt-x → input')
    expect(loadError(priceFile('provider.json', { opnai: { 'gpt-x': { input: 1, output: 1 } } }))).toContain(
      'opnai',
    )
  })

  it('names a bad tier', () => {
    const bad = {
      gemini: { 'gemini-x': { input: 1, output: 1, tiers: [{ aboveInputTokens: 0, input: 2, output: 2 }] } },
    }
    expect(loadError(priceFile('tier.json', bad))).toContain(
      'gemini → gemini-x → tiers → 0 → aboveInputTokens',
    )
  })

  it('reports malformed JSON and unreadable files', () => {
    expect(loadError(priceFile('broken.json', '{"openai": '))).toMatch(/broken\.json is not valid JSON/)
    expect(loadError(path.join(dir, 'absent.json'))).toMatch(/cannot read price file .*absent\.json/)
  })
})
