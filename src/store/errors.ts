/**
 * Sorting store failures for the recorder: a retryable error may succeed if the same write is
 * tried again later (the database was unreachable, restarting or shed a conflicting transaction);
 * a permanent one will fail the same way every time (constraint or data errors).
 */

export type StoreErrorClass = 'retryable' | 'permanent'

/** SQLSTATEs where running the whole transaction again is the prescribed fix. */
export const TRANSACTION_RETRY_CODES: ReadonlySet<string> = new Set(['40001', '40P01'])

const RETRYABLE_SQLSTATES = new Set([
  ...TRANSACTION_RETRY_CODES,
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available
  '25P03', // idle_in_transaction_session_timeout
])
/** Classes: 08 connection exception, 53 insufficient resources (too many connections, disk full). */
const RETRYABLE_SQLSTATE_CLASSES = ['08', '53']

const RETRYABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
])

/** Messages node-postgres uses for a lost or unobtainable connection (it sets no code on these). */
const RETRYABLE_MESSAGES = [
  /connection terminated/i,
  /terminating connection/i,
  /timeout exceeded when trying to connect/i,
  /connection error/i,
  /server closed the connection/i,
]

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

export function classifyStoreError(err: unknown): StoreErrorClass {
  const code = codeOf(err)
  if (code !== undefined) {
    if (RETRYABLE_SQLSTATES.has(code) || RETRYABLE_NODE_CODES.has(code)) return 'retryable'
    if (/^[0-9A-Z]{5}$/.test(code)) {
      return RETRYABLE_SQLSTATE_CLASSES.includes(code.slice(0, 2)) ? 'retryable' : 'permanent'
    }
  }
  // AggregateError (a connect that tried IPv4 and IPv6) carries the real causes inside.
  if (err instanceof AggregateError) {
    return err.errors.some((inner) => classifyStoreError(inner) === 'retryable') ? 'retryable' : 'permanent'
  }
  const message = err instanceof Error ? err.message : String(err)
  return RETRYABLE_MESSAGES.some((pattern) => pattern.test(message)) ? 'retryable' : 'permanent'
}
