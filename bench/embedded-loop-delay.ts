/**
 * How long the main thread's event loop is held up while the embedded database commits a burst of
 * turns (the thread that answers Envoy), and the commit throughput of that burst.
 * Run: `npx tsx bench/embedded-loop-delay.ts [turns]` (default 2000 turns, 4 writers, 16 per batch).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { openStore } from '../src/store/store.js'
import { chain, makeTurn } from '../test/store/turn-factory.js'

const TURNS = Number(process.argv[2] ?? 2000)
const WRITERS = 4
const BATCH = 16

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-loop-delay-'))
const store = await openStore({ dataDir })
const turns = Array.from({ length: TURNS }, (_, i) =>
  makeTurn({ nodes: chain([`question ${i}`, `answer ${i}`, `follow-up ${i}`]) }),
)
const histogram = monitorEventLoopDelay({ resolution: 1 })
histogram.enable()
// The histogram samples on a libuv timer: let it start before the burst.
await new Promise((resolve) => setTimeout(resolve, 20))
const started = performance.now()
let next = 0
await Promise.all(
  Array.from({ length: WRITERS }, async () => {
    while (next < turns.length) {
      const batch = turns.slice(next, next + BATCH)
      next += batch.length
      await store.ingestBatch(batch.map((turn) => ({ turn })))
    }
  }),
)
const seconds = (performance.now() - started) / 1000
// One more turn of the loop, so a stall that lasted to the end is sampled too.
await new Promise((resolve) => setTimeout(resolve, 5))
histogram.disable()
await store.close()
fs.rmSync(dataDir, { recursive: true, force: true })
const ms = (ns: number) => (ns / 1e6).toFixed(1)
console.log(
  `${TURNS} turns in ${seconds.toFixed(2)} s (${Math.round(TURNS / seconds)} turns/s); ` +
    `event-loop delay max ${ms(histogram.max)} ms, p99 ${ms(histogram.percentile(99))} ms, samples ${histogram.count}`,
)
