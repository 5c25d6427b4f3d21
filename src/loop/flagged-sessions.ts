/**
 * The in-memory set of sessions flagged as looping, keyed by harness id and harness session id: what
 * the request gate looks up on the reply path. Bounded: the oldest flags go first when it is full.
 */
import type { SessionKey } from '../session/turn.js'

export const DEFAULT_FLAGGED_CAPACITY = 10_000

/** One string per key; neither part can hold a newline (both are validated identifiers). */
function keyOf(key: SessionKey): string {
  return `${key.harnessId}\n${key.harnessSessionId}`
}

export class FlaggedSessions {
  // A Map iterates in insertion order: re-adding a key moves it to the young end.
  private readonly keys = new Map<string, true>()

  constructor(readonly capacity: number = DEFAULT_FLAGGED_CAPACITY) {}

  get size(): number {
    return this.keys.size
  }

  add(key: SessionKey): void {
    const k = keyOf(key)
    this.keys.delete(k)
    this.keys.set(k, true)
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next().value
      if (oldest !== undefined) this.keys.delete(oldest)
    }
  }

  has(key: SessionKey): boolean {
    return this.keys.has(keyOf(key))
  }
}
