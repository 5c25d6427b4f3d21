/**
 * Hand-written shape checks for the hot streamed records (one per token), where a zod safeParse
 * per record costs as much as JSON.parse itself. They accept exactly what the zod schemas would;
 * anything else is left to the schema.
 */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Every named field is absent, null or a string (zod's `z.string().nullish()`). */
export function nullishStrings(record: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const key of keys) {
    const value = record[key]
    if (value != null && typeof value !== 'string') return false
  }
  return true
}

/** The field is absent, null or a number (zod's `z.number().nullish()`). */
export function isNullishNumber(value: unknown): value is number | null | undefined {
  return value == null || typeof value === 'number'
}
