/**
 * Finds a model's price: the family key equal to the model string, or the family key that the model
 * extends by a snapshot suffix only (a date, '-latest', '-001'), so 'gpt-4o-mini-2024-07-18' prices
 * as 'gpt-4o-mini' but a new 'claude-opus-4-9' never silently takes 'claude-opus-4''s price.
 */
import type { Provider } from '../providers/types.js'
import type { ModelPrice, PriceTable } from './schema.js'

/** Dated or pinned snapshot tags: 20250929, 2024-07-18, 0613, 001, latest. */
const SNAPSHOT_SUFFIX = /^(?:\d{8}|\d{4}-\d{2}-\d{2}|\d{4}|\d{3}|latest)$/

/** Lower-case, without Gemini's 'models/' resource prefix. */
export function normalizeModelName(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/^models\//, '')
}

function extendsBySnapshot(model: string, family: string): boolean {
  if (!model.startsWith(family)) return false
  const separator = model[family.length]
  if (separator !== '-' && separator !== '@') return false
  return SNAPSHOT_SUFFIX.test(model.slice(family.length + 1))
}

export interface PriceMatch {
  family: string
  price: ModelPrice
}

/**
 * A suffix is one snapshot tag with no separator inside other than a date's, so at most one family
 * can match by suffix: no "longest prefix" tie-break is needed.
 */
export function findModelPrice(table: PriceTable, provider: Provider, model: string): PriceMatch | null {
  // Own keys only: provider and model names come from traffic ('constructor' must not match).
  if (!Object.hasOwn(table, provider)) return null
  const families = (table as Partial<Record<string, Record<string, ModelPrice>>>)[provider]
  if (families === undefined) return null
  const name = normalizeModelName(model)
  const exact = Object.hasOwn(families, name) ? families[name] : undefined
  if (exact !== undefined) return { family: name, price: exact }
  for (const [family, price] of Object.entries(families)) {
    if (extendsBySnapshot(name, family)) return { family, price }
  }
  return null
}
