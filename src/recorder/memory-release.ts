/**
 * Gives memory back after a backlog drains. While Postgres is away, turns pile up in the queue (up to
 * LIMITS.queueBytes of raw body) and V8 grows its heap to hold them. Once they are committed they are
 * garbage, but an idle process allocates nothing, so V8 never runs the major GC that would free and
 * unmap those pages: measured, RSS stayed at ~500 MB with 28 MB of live heap. One compacting full GC
 * shortly after the backlog is gone returns them (bench/faults.ts measures it). It runs only then,
 * when the live heap is small and the pause short, and at most once per MIN_INTERVAL_MS.
 */
import v8 from 'node:v8'
import vm from 'node:vm'

/**
 * A backlog this large is worth a GC once it drains. Normally the queue holds at most a few writer
 * batches; a thousand turns waiting means the database was away or slow. Bytes are raw body bytes,
 * which undercount what a built turn holds (parsed content, encoded nodes) several times over.
 */
export const RELEASE_AFTER = { items: 1000, bytes: 32 * 1024 * 1024 }
/** Quiet time after the queue empties before the GC, so a backlog that refills is not collected twice. */
const DELAY_MS = 1000
const MIN_INTERVAL_MS = 30_000

type FullGc = () => void

/**
 * V8's own full GC, compacting. Node only exposes gc() with --expose-gc; the flag can be set at run
 * time, and a fresh context then carries the function. A plain full GC frees the objects but keeps
 * every page that still holds one live object; compacting moves those out so the pages can go
 * (measured: heap total 201 → 45 MB for 13 MB live). Both flags are cleared again at once.
 */
function compactingGc(): FullGc {
  const exposed = (globalThis as { gc?: FullGc }).gc
  let gc = exposed
  if (!gc) {
    v8.setFlagsFromString('--expose-gc')
    try {
      gc = vm.runInNewContext('gc') as FullGc
    } finally {
      v8.setFlagsFromString('--no-expose-gc')
    }
  }
  const full = gc
  return () => {
    v8.setFlagsFromString('--compact-on-every-full-gc')
    try {
      full()
    } finally {
      v8.setFlagsFromString('--no-compact-on-every-full-gc')
    }
  }
}

export interface MemoryReleaseDeps {
  /** Told how long the GC paused the thread, and resident memory before it and a second after. */
  onReleased: (pauseMs: number, rssBefore: number, rssAfter: number) => void
  /** Whether the backlog is still gone when the delay is up (a refilled queue waits for its own drain). */
  stillEmpty: () => boolean
  threshold?: { items: number; bytes: number }
  delayMs?: number
  minIntervalMs?: number
}

export class MemoryRelease {
  private gc: FullGc | undefined
  private timer: NodeJS.Timeout | undefined
  private lastAt = Number.NEGATIVE_INFINITY

  constructor(private readonly deps: MemoryReleaseDeps) {}

  /** The queue just became empty; `peak` is the most it held since it was last empty. */
  backlogGone(peak: { items: number; bytes: number }): void {
    const threshold = this.deps.threshold ?? RELEASE_AFTER
    if (this.timer || (peak.items < threshold.items && peak.bytes < threshold.bytes)) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (!this.deps.stillEmpty()) return
      if (performance.now() - this.lastAt < (this.deps.minIntervalMs ?? MIN_INTERVAL_MS)) return
      this.lastAt = performance.now()
      this.release()
    }, this.deps.delayMs ?? DELAY_MS)
    // A pending release never keeps the process alive.
    this.timer.unref()
  }

  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private release(): void {
    this.gc ??= compactingGc()
    const rssBefore = process.memoryUsage.rss()
    const started = performance.now()
    this.gc()
    const pauseMs = performance.now() - started
    // Freed pages are unmapped by V8's background threads just after the GC: read RSS a moment later.
    setTimeout(() => this.deps.onReleased(pauseMs, rssBefore, process.memoryUsage.rss()), 1000).unref()
  }
}
