/** zod at the provider boundary: a failed parse becomes a short reason naming the first bad field. */
import type { z } from 'zod'

export type Validated<T> = { ok: true; value: T } | { ok: false; reason: string }

export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): Validated<z.output<S>> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return { ok: true, value: parsed.data }
  const issue = parsed.error.issues[0]
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
  return { ok: false, reason: `invalid ${what}${where}: ${issue?.message ?? 'wrong shape'}` }
}
