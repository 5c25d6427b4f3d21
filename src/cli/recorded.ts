/**
 * What a sidecar recorded, read back from its /metrics: turns newly committed, and turns whose request
 * id it already held (a repeated replay). Lets `sessiontap replay` say whether a run stored anything.
 */

export interface RecorderCounters {
  committed: number
  alreadyCommitted: number
  /** Exchanges not turned into turns (not an LLM call, too large, shutting down, ...). */
  dropped: number
}

const COUNTERS: Record<keyof RecorderCounters, readonly string[]> = {
  committed: ['sessiontap_recorder_committed_total'],
  alreadyCommitted: ['sessiontap_recorder_already_committed_total'],
  dropped: ['sessiontap_recorder_dropped_total', 'sessiontap_exchanges_dropped_total'],
}

/** Sums each counter over its label sets in Prometheus text format. */
export function parseRecorderCounters(text: string): RecorderCounters {
  const sums = { committed: 0, alreadyCommitted: 0, dropped: 0 }
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+]+)$/.exec(line)
    if (!match) continue
    for (const [key, names] of Object.entries(COUNTERS)) {
      if (names.includes(match[1]!)) sums[key as keyof RecorderCounters] += Number(match[2])
    }
  }
  return sums
}

/** The counters of the sidecar at this admin address, or null when it does not answer. */
export async function readRecorderCounters(adminAddress: string): Promise<RecorderCounters | null> {
  try {
    const response = await fetch(`http://${adminAddress}/metrics`, { signal: AbortSignal.timeout(2000) })
    if (!response.ok) return null
    return parseRecorderCounters(await response.text())
  } catch {
    return null
  }
}

export interface Recorded {
  newTurns: number
  alreadyRecorded: number
}

/**
 * Waits until the sidecar has accounted for `expected` exchanges since `before` (commits happen off
 * the reply path), or until its counters, once they moved, stop moving for settleMs, and returns the
 * difference. Before anything moved it waits up to timeoutMs: a first commit (workers starting, the
 * database warming up) can take seconds on a busy machine.
 */
export async function waitForRecorded(
  adminAddress: string,
  before: RecorderCounters,
  expected: number,
  { settleMs = 2000, timeoutMs = 15_000, pollMs = 100 } = {},
): Promise<Recorded | null> {
  const deadline = Date.now() + timeoutMs
  let last: RecorderCounters | null = null
  let movedAt = Date.now()
  for (;;) {
    const now = await readRecorderCounters(adminAddress)
    if (!now) return null
    const delta = {
      newTurns: now.committed - before.committed,
      alreadyRecorded: now.alreadyCommitted - before.alreadyCommitted,
    }
    const accounted = delta.newTurns + delta.alreadyRecorded + (now.dropped - before.dropped)
    if (last === null || JSON.stringify(now) !== JSON.stringify(last)) movedAt = Date.now()
    last = now
    const settled = accounted > 0 && Date.now() - movedAt >= settleMs
    if (accounted >= expected || settled || Date.now() >= deadline) return delta
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}
