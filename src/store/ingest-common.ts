/**
 * Pieces every step of the ingest transaction shares: the retry signal, numbered statement
 * parameters, and when a turn was last active.
 */
import type { Turn } from '../session/turn.js'

export class TransactionRaceError extends Error {
  constructor(what: string) {
    super(`concurrent write raced this transaction (${what}); retry it`)
    this.name = 'TransactionRaceError'
  }
}

/** Numbered placeholders for one statement: `p(value)` appends the value and returns its `$n`. */
export function parameters(): { values: unknown[]; p: (value: unknown) => string } {
  const values: unknown[] = []
  return { values, p: (value) => `$${values.push(value)}` }
}

/** The moment the turn was last active: its end when the latency is known. */
export function seenAt(turn: Turn): Date {
  return new Date(turn.startedAt.getTime() + (turn.latencyMs ?? 0))
}

export function isErrorTurn(turn: Turn): boolean {
  return (
    (turn.statusCode !== null && turn.statusCode >= 400) ||
    turn.errorType !== null ||
    turn.errorMessage !== null
  )
}
