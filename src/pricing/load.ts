/**
 * Loading a price table: the built-in table merged with an optional user override file (the shape of
 * schema.ts), every bad entry named in one error.
 */
import { readFileSync } from 'node:fs'
import type { z } from 'zod'
import { KNOWN_PROVIDERS } from '../providers/hosts.js'
import { DEFAULT_PRICES } from './prices.js'
import { type PriceTable, priceTableSchema } from './schema.js'

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
