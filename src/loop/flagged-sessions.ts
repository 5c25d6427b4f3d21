/**
 * The in-memory set of sessions flagged as looping, keyed by org, harness id and harness session id:
 * what the request gate looks up on the reply path. The org is part of the key, so one org's looping
 * session never gates another org's session of the same id. Bounded: the oldest flags go first.
 */
import type { SessionKey } from '../session/turn.js'

/** A session as the gate knows it: its org and its natural key. */
export interface FlaggedKey extends SessionKey {
  orgId: string
}

export const DEFAULT_FLAGGED_CAPACITY = 10_000

/** One string per key; no part can hold a newline (a UUID and two validated identifiers). */
function keyOf(key: FlaggedKey): string {
  return `${key.orgId}\n${key.harnessId}\n${key.harnessSessionId}`
}

export class FlaggedSessions {
  // A Map iterates in insertion order: re-adding a key moves it to the young end.
  private readonly keys = new Map<string, true>()

  constructor(readonly capacity: number = DEFAULT_FLAGGED_CAPACITY) {}

  get size(): number {
    return this.keys.size
  }

  add(key: FlaggedKey): void {
    const k = keyOf(key)
    this.keys.delete(k)
    this.keys.set(k, true)
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next().value
      if (oldest !== undefined) this.keys.delete(oldest)
    }
  }

  has(key: FlaggedKey): boolean {
    return this.keys.has(keyOf(key))
  }
}
