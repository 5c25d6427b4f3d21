/**
 * Query-string and path validation for the read API and the page, with zod: unknown or repeated
 * parameters and bad values become a 400 ApiError naming the parameter, never a SQL error.
 */

import { z } from 'zod'
import { ApiError } from '../http/errors.js'
import { isUuid } from '../session/identifiers.js'
import {
  DEFAULT_PAGE_SIZE,
  DEFAULT_TURNS_PAGE,
  type ListSessionsOptions,
  MAX_PAGE_SIZE,
  MAX_TURNS_PAGE,
  SESSION_SORTS,
  SORT_ORDERS,
  type TurnsOptions,
} from '../store/read/index.js'
import { parseTurnRef, type TurnRef } from '../store/turn-bodies.js'

// Postgres text cannot hold U+0000: reject it here rather than fail in SQL.
const text = z
  .string()
  .min(1)
  .max(1000)
  .refine((value) => !value.includes('\u0000'), 'must not contain NUL')
const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value))
const uuid = z.string().refine(isUuid, 'expected a UUID')
const count = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d{1,10}$/, 'expected an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))

export const listSessionsQuery = z
  .strictObject({
    harness: text.optional(),
    subject: text.optional(),
    since: instant.optional(),
    until: instant.optional(),
    status: z.enum(['active', 'ended']).optional(),
    parent: uuid.optional(),
    sort: z.enum(SESSION_SORTS).default('last_seen'),
    order: z.enum(SORT_ORDERS).default('desc'),
    limit: count(1, MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    cursor: text.optional(),
  })
  .transform(
    (q): ListSessionsOptions => ({
      harness: q.harness,
      authSubject: q.subject,
      since: q.since,
      until: q.until,
      status: q.status,
      parentId: q.parent,
      sort: q.sort,
      order: q.order,
      limit: q.limit,
      cursor: q.cursor,
    }),
  )

export const turnsQuery = z
  .strictObject({
    after: count(-1, 2 ** 31 - 1).optional(),
    limit: count(1, MAX_TURNS_PAGE).default(DEFAULT_TURNS_PAGE),
  })
  .transform((q): TurnsOptions => ({ afterIndex: q.after, limit: q.limit }))

export const noQuery = z.strictObject({})

export const transcriptQuery = z.strictObject({ format: z.enum(['json', 'text']).default('json') })

/** The query string as an object; a parameter given twice is an error rather than a silent pick. */
export function parseQuery<T>(schema: z.ZodType<T>, params: URLSearchParams): T {
  const raw: Record<string, string> = {}
  for (const [key, value] of params) {
    if (key in raw) throw new ApiError(400, 'invalid_query', `parameter ${key} is given more than once`)
    raw[key] = value
  }
  const result = schema.safeParse(raw)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const where = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue?.path.join('.')
  throw new ApiError(400, 'invalid_query', `${where ? `${where}: ` : ''}${issue?.message ?? 'invalid query'}`)
}

/** A session id from the path: a malformed one is a 400, a well-formed unknown one a 404 later. */
export function parseSessionId(raw: string): string {
  let id: string
  try {
    id = decodeURIComponent(raw)
  } catch {
    throw new ApiError(400, 'invalid_id', 'the session id is not a UUID')
  }
  if (!isUuid(id)) throw new ApiError(400, 'invalid_id', 'the session id is not a UUID')
  return id.toLowerCase()
}

/** A turn from the path: its index in the session (digits) or its id (a UUID); anything else is a 400. */
export function parseTurnRefParam(raw: string): TurnRef {
  let text: string
  try {
    text = decodeURIComponent(raw)
  } catch {
    text = ''
  }
  const ref = parseTurnRef(text)
  if (!ref) throw new ApiError(400, 'invalid_turn', 'the turn is neither a turn index nor a turn id (UUID)')
  return ref
}
