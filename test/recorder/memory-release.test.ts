import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { MemoryRelease } from '../../src/recorder/memory-release.js'

const threshold = { items: 10, bytes: 1000 }

function release(stillEmpty = () => true) {
  const released: Array<{ pauseMs: number; rssBefore: number; rssAfter: number }> = []
  const memory = new MemoryRelease({
    threshold,
    delayMs: 10,
    minIntervalMs: 60_000,
    stillEmpty,
    onReleased: (pauseMs, rssBefore, rssAfter) => released.push({ pauseMs, rssBefore, rssAfter }),
  })
  return { memory, released }
}

/** The report comes a second after the GC (RSS is read once freed pages are unmapped). */
const REPORTED_MS = 1300

describe('memory release after a backlog', () => {
  it('runs one full GC once a large backlog is gone, and reports it', async () => {
    const { memory, released } = release()
    memory.backlogGone({ items: 10, bytes: 0 })
    await sleep(REPORTED_MS)
    expect(released).toHaveLength(1)
    expect(released[0]!.pauseMs).toBeGreaterThan(0)
    expect(released[0]!.rssBefore).toBeGreaterThan(0)
    expect(released[0]!.rssAfter).toBeGreaterThan(0)
  })

  it('frees garbage the idle process would keep: heap in use falls', async () => {
    const { memory } = release()
    let garbage: string[] | undefined = Array.from({ length: 50_000 }, (_, i) => `turn ${i} `.repeat(20))
    const held = process.memoryUsage().heapUsed
    expect(garbage).toHaveLength(50_000)
    garbage = undefined
    memory.backlogGone({ items: 0, bytes: 1000 })
    await sleep(100)
    expect(process.memoryUsage().heapUsed).toBeLessThan(held - 10 * 2 ** 20)
  })

  it('leaves a small backlog alone', async () => {
    const { memory, released } = release()
    memory.backlogGone({ items: 9, bytes: 999 })
    await sleep(REPORTED_MS)
    expect(released).toHaveLength(0)
  })

  it('skips the GC when the queue has filled again by the end of the delay', async () => {
    const { memory, released } = release(() => false)
    memory.backlogGone({ items: 100, bytes: 0 })
    await sleep(REPORTED_MS)
    expect(released).toHaveLength(0)
  })

  it('runs at most once per interval, and not after stop()', async () => {
    const { memory, released } = release()
    memory.backlogGone({ items: 100, bytes: 0 })
    await sleep(50)
    memory.backlogGone({ items: 100, bytes: 0 })
    await sleep(REPORTED_MS)
    expect(released).toHaveLength(1)
    const stopped = release()
    stopped.memory.backlogGone({ items: 100, bytes: 0 })
    stopped.memory.stop()
    await sleep(REPORTED_MS)
    expect(stopped.released).toHaveLength(0)
  })

  it('does not leave gc() exposed to other code', () => {
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined()
  })
})
