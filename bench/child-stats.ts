/**
 * The measuring side of a server process under benchmark: answers the orchestrator's IPC questions
 * with its RSS, peak RSS and event-loop delay, sampled every millisecond inside that process.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'

export interface ChildStats {
  rssBytes: number
  /** The kernel's high-water mark of RSS (VmHWM) since start or the last reset. */
  peakRssBytes: number
  heapUsedBytes: number
  /** Longest event-loop delay since the last reset, in milliseconds. */
  loopMaxMs: number
  loopP99Ms: number
  /** Longest garbage-collection pause of the main thread since the last reset, in milliseconds. */
  gcMaxMs: number
}

export type ChildRequest = { type: 'stats'; id: number; reset: boolean } | { type: 'stop'; id: number }

export interface ReadyMessage {
  type: 'ready'
  address: string
  httpAddress?: string
}

export type ChildReply = ReadyMessage | { type: 'reply'; id: number; stats?: ChildStats }

function peakRss(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss
}

/** Linux resets the peak RSS counter when 5 is written to clear_refs. */
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
  } catch {
    // Not allowed here: the peak then covers the whole process life, which the report says.
  }
}

/** Serves stats over IPC until asked to stop; `stop` runs the server's own shutdown first. */
export function serveStats(ready: Omit<ReadyMessage, 'type'>, stop: () => Promise<void>): void {
  // 1 ms resolution: a stall shorter than the sampling period would otherwise go unseen.
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  // GC pauses, to tell a collector pause from a long task of our own in the loop delay.
  let gcMaxMs = 0
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration)
  }).observe({ entryTypes: ['gc'] })
  const send = (reply: ChildReply) => process.send?.(reply)
  process.on('message', (msg: ChildRequest) => {
    if (msg.type === 'stats') {
      const memory = process.memoryUsage()
      send({
        type: 'reply',
        id: msg.id,
        stats: {
          rssBytes: memory.rss,
          peakRssBytes: peakRss(),
          heapUsedBytes: memory.heapUsed,
          loopMaxMs: loop.max / 1e6,
          loopP99Ms: loop.percentile(99) / 1e6,
          gcMaxMs,
        },
      })
      if (msg.reset) {
        loop.reset()
        gcMaxMs = 0
        resetPeakRss()
      }
      return
    }
    void stop().finally(() => {
      send({ type: 'reply', id: msg.id })
      process.disconnect?.()
    })
  })
  send({ type: 'ready', ...ready })
}
