/** listSessions: one org's sessions with filters, four sort keys and keyset pagination (opaque cursors). */
import { z } from 'zod'
import { isUuid } from '../../session/identifiers.js'
import type { SqlSession } from '../driver.js'
import {
  SESSION_SELECT,
  type SessionSelectRow,
  type SessionStatus,
  type SessionSummary,
  toSummary,
} from './sessions.js'

export const SESSION_SORTS = ['last_seen', 'cost', 'tokens', 'turns'] as const
export type SessionSort = (typeof SESSION_SORTS)[number]
export const SORT_ORDERS = ['asc', 'desc'] as const
export type SortOrder = (typeof SORT_ORDERS)[number]

export const MAX_PAGE_SIZE = 200
export const DEFAULT_PAGE_SIZE = 50

/**
 * Each sort key: its SQL, the SQL that renders it as exact text for the cursor, the cast that turns
 * that text back, and the shape the text must have (checked before it reaches SQL).
 */
const SORT_KEYS: Record<
  SessionSort,
  { expr: string; text: string; cast: string; shape: RegExp; valid?: (key: string) => boolean }
> = {
  last_seen: {
    expr: 's.last_seen_at',
    // Microseconds: the cursor must hold the exact stored value, not a millisecond rounding of it.
    text: `to_char(s.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    cast: 'timestamptz',
    shape: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/,
    // A real instant: the date survives a round trip through Date (no month 13, no February 30).
    valid: (k) => {
      const ms = Date.parse(`${k.slice(0, 23)}Z`)
      return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 23) === k.slice(0, 23)
    },
  },
  cost: {
    expr: 's.total_cost_usd',
    text: 's.total_cost_usd::text',
    cast: 'numeric',
    shape: /^\d{1,10}(\.\d{1,10})?$/,
  },
  tokens: {
    expr: '(s.total_input_tokens + s.total_output_tokens)',
    text: '(s.total_input_tokens + s.total_output_tokens)::text',
    cast: 'bigint',
    shape: /^\d{1,18}$/,
  },
  turns: { expr: 's.turn_count', text: 's.turn_count::text', cast: 'integer', shape: /^\d{1,9}$/ },
}

export interface SessionFilters {
  harness?: string
  authSubject?: string
  /** last_seen_at >= since */
  since?: Date
  /** last_seen_at < until */
  until?: Date
  status?: SessionStatus
  /** Children of this session. */
  parentId?: string
}

export interface ListSessionsOptions extends SessionFilters {
  /** Default last_seen. */
  sort?: SessionSort
  /** Default desc. */
  order?: SortOrder
  /** 1..MAX_PAGE_SIZE, default DEFAULT_PAGE_SIZE. */
  limit?: number
  /** nextCursor of the previous page, listed with the same sort and order. */
  cursor?: string
}

export interface SessionPage {
  sessions: SessionSummary[]
  /** Opaque; null on the last page. */
  nextCursor: string | null
}

/** A cursor that is not one this module wrote, or one written for another sort or order. */
export class InvalidCursorError extends Error {
  constructor(reason: string) {
    super(`invalid cursor: ${reason}`)
    this.name = 'InvalidCursorError'
  }
}

const cursorSchema = z.object({
  s: z.enum(SESSION_SORTS),
  o: z.enum(SORT_ORDERS),
  k: z.string(),
  i: z.string().refine(isUuid),
})
type Cursor = z.infer<typeof cursorSchema>

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url')
}

export function decodeCursor(text: string, sort: SessionSort, order: SortOrder): Cursor {
  let json: unknown
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new Error('not base64url')
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError('not a cursor of this API')
  }
  const parsed = cursorSchema.safeParse(json)
  if (!parsed.success) throw new InvalidCursorError('not a cursor of this API')
  const cursor = parsed.data
  if (cursor.s !== sort || cursor.o !== order) {
    throw new InvalidCursorError(
      `it continues sort=${cursor.s} order=${cursor.o}, not sort=${sort} order=${order}`,
    )
  }
  const key = SORT_KEYS[sort]
  if (!key.shape.test(cursor.k) || !(key.valid?.(cursor.k) ?? true)) {
    throw new InvalidCursorError('its sort key is malformed')
  }
  return cursor
}

/**
 * One page of the org's sessions (placeholders excluded), ordered by the sort key and then by id.
 *
 * Pagination is keyset, not offset: a page is "the next `limit` rows after (key, id) of the last
 * row seen", so what other rows do never moves a row across the cursor. Every sort key only grows
 * (last_seen_at takes the GREATEST, counters and cost only add), which gives this guarantee while
 * sessions are inserted and updated during paging:
 *   - a session that is not inserted or updated during the paging appears exactly once;
 *   - a changed session can only move toward the end of an ascending listing and toward the start
 *     of a descending one. So with order=desc (the default) no session ever appears twice, and one
 *     updated before the cursor reached it is skipped (it is now above the cursor: a new first page
 *     shows it); with order=asc nothing is skipped, and a session updated after it was seen can
 *     appear again further on, with its new values.
 * A session inserted during paging shows up iff its key falls after the cursor.
 */
export async function listSessions(
  db: SqlSession,
  orgId: string,
  options: ListSessionsOptions = {},
): Promise<SessionPage> {
  const sort = options.sort ?? 'last_seen'
  const order = options.order ?? 'desc'
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
  const key = SORT_KEYS[sort]
  const params: unknown[] = [orgId]
  const param = (value: unknown): string => {
    params.push(value)
    return `$${params.length}`
  }
  const where = ['s.org_id = $1', 'NOT s.is_placeholder']
  if (options.harness !== undefined) where.push(`s.harness_id = ${param(options.harness)}`)
  if (options.authSubject !== undefined) where.push(`s.auth_subject = ${param(options.authSubject)}`)
  if (options.since !== undefined) where.push(`s.last_seen_at >= ${param(options.since)}`)
  if (options.until !== undefined) where.push(`s.last_seen_at < ${param(options.until)}`)
  if (options.status === 'active') where.push('s.ended_at IS NULL')
  if (options.status === 'ended') where.push('s.ended_at IS NOT NULL')
  if (options.parentId !== undefined) {
    if (!isUuid(options.parentId)) return { sessions: [], nextCursor: null }
    where.push(`s.parent_session_id = ${param(options.parentId)}`)
  }
  if (options.cursor !== undefined) {
    const cursor = decodeCursor(options.cursor, sort, order)
    const after = order === 'desc' ? '<' : '>'
    where.push(`(${key.expr}, s.id) ${after} (${param(cursor.k)}::${key.cast}, ${param(cursor.i)}::uuid)`)
  }
  const direction = order === 'desc' ? 'DESC' : 'ASC'
  const { rows } = await db.query<SessionSelectRow & { sort_key: string }>(
    `SELECT ${SESSION_SELECT}, ${key.text} AS sort_key
     FROM sessions s
     WHERE ${where.join(' AND ')}
     ORDER BY ${key.expr} ${direction}, s.id ${direction}
     LIMIT ${limit + 1}`,
    params,
  )
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  return {
    sessions: page.map(toSummary),
    nextCursor:
      rows.length > limit && last ? encodeCursor({ s: sort, o: order, k: last.sort_key, i: last.id }) : null,
  }
}
