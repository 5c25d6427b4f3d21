/**
 * The benchmark scenarios. Each one is bounded in time and runs sessiontap and the do-nothing
 * baseline side by side in the same run, interleaved round by round.
 */

import { replay } from '../src/emulator/replay.js'
import type { HttpExchangeSpec } from '../src/emulator/types.js'
import type { RequestKind } from '../src/extproc/messages.js'
import { type BodyMode, filterFor, type PlayResult, play } from './play.js'
import { type BenchServer, waitQuiet } from './servers.js'
import { MiB, median, spread } from './stats.js'
import { syntheticExchange } from './workload.js'

export interface Pair {
  sessiontap: BenchServer
  baseline: BenchServer
}

type Kind = RequestKind | 'all'

export interface LatencyRow {
  mode: BodyMode
  concurrency: number
  kind: Kind
  /** Median over rounds of each run's percentile, in ms. */
  sessiontap: { p50: number; p99: number; p999: number; count: number }
  baseline: { p50: number; p99: number; p999: number; count: number }
  ratio: { p50: number; p99: number; p999: number }
  /** (max - min) / median of the runs' p50 and p99, sessiontap side. */
  noise: { p50: number; p99: number }
}

export interface RunFigures {
  exchangesPerSec: number
  mbPerSec: number
  peakRssMb: number
  loopMaxMs: number
}

export interface ScalingRow {
  label: string
  mode: BodyMode
  concurrency: number
  bodyBytes: number
  sessiontap: RunFigures & { p50: number; p99: number }
  baseline: RunFigures & { p50: number; p99: number }
}

function figures(runs: PlayResult[]): RunFigures & { p50: number; p99: number } {
  return {
    exchangesPerSec: median(runs.map((r) => r.exchangesPerSec)),
    mbPerSec: median(runs.map((r) => r.mbPerSec)),
    peakRssMb: median(runs.map((r) => r.server.peakRssBytes / MiB)),
    loopMaxMs: median(runs.map((r) => r.server.loopMaxMs)),
    p50: median(runs.map((r) => r.summary.latency.all?.p50 ?? Number.NaN)),
    p99: median(runs.map((r) => r.summary.latency.all?.p99 ?? Number.NaN)),
  }
}

/** Runs both servers `rounds` times, alternating which goes first. */
async function interleaved(
  pair: Pair,
  rounds: number,
  run: (server: BenchServer) => Promise<PlayResult>,
): Promise<{ sessiontap: PlayResult[]; baseline: PlayResult[] }> {
  const out = { sessiontap: [] as PlayResult[], baseline: [] as PlayResult[] }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? (['sessiontap', 'baseline'] as const) : (['baseline', 'sessiontap'] as const)
    for (const side of order) out[side].push(await run(pair[side]))
  }
  return out
}

function latencyRows(
  mode: BodyMode,
  concurrency: number,
  runs: { sessiontap: PlayResult[]; baseline: PlayResult[] },
): LatencyRow[] {
  const kinds = Object.keys(runs.sessiontap[0]!.summary.latency) as Kind[]
  return kinds.map((kind) => {
    const pick = (side: PlayResult[], q: 'p50' | 'p99' | 'p999') =>
      side.map((r) => r.summary.latency[kind]?.[q] ?? Number.NaN)
    const side = (results: PlayResult[]) => ({
      p50: median(pick(results, 'p50')),
      p99: median(pick(results, 'p99')),
      p999: median(pick(results, 'p999')),
      count: median(results.map((r) => r.summary.latency[kind]?.count ?? 0)),
    })
    const s = side(runs.sessiontap)
    const b = side(runs.baseline)
    return {
      mode,
      concurrency,
      kind,
      sessiontap: s,
      baseline: b,
      ratio: { p50: s.p50 / b.p50, p99: s.p99 / b.p99, p999: s.p999 / b.p999 },
      noise: { p50: spread(pick(runs.sessiontap, 'p50')), p99: spread(pick(runs.sessiontap, 'p99')) },
    }
  })
}

export interface LatencyOptions {
  modes: BodyMode[]
  concurrencies: number[]
  rounds: number
  /** Exchanges per run at concurrency c: max(minExchanges, c * perStream). */
  minExchanges: number
  perStream: number
}

export async function latencyScenario(
  pair: Pair,
  session: HttpExchangeSpec[],
  options: LatencyOptions,
  log: (line: string) => void,
): Promise<{ rows: LatencyRow[]; scaling: ScalingRow[] }> {
  const rows: LatencyRow[] = []
  const scaling: ScalingRow[] = []
  const sessionBytes = session.reduce((n, s) => n + s.request.body.length + s.response.body.length, 0)
  for (const mode of options.modes) {
    for (const concurrency of options.concurrencies) {
      const exchanges = Math.max(options.minExchanges, concurrency * options.perStream)
      const repeat = Math.ceil(exchanges / session.length)
      const runs = await interleaved(pair, options.rounds, (server) =>
        play(server, mode, session, { concurrency, repeat }),
      )
      const found = latencyRows(mode, concurrency, runs)
      rows.push(...found)
      const all = found.find((r) => r.kind === 'all')!
      log(
        `latency ${mode} c=${concurrency}: p50 ${all.sessiontap.p50.toFixed(3)}/${all.baseline.p50.toFixed(3)} ms ` +
          `(${all.ratio.p50.toFixed(2)}x), p99 ${all.sessiontap.p99.toFixed(3)}/${all.baseline.p99.toFixed(3)} ms (${all.ratio.p99.toFixed(2)}x)`,
      )
      scaling.push({
        label: `${mode}, ${concurrency} concurrent, recorded session`,
        mode,
        concurrency,
        bodyBytes: Math.round(sessionBytes / session.length),
        sessiontap: figures(runs.sessiontap),
        baseline: figures(runs.baseline),
      })
    }
  }
  return { rows, scaling }
}

/** Body-size scaling: synthetic exchanges whose request and response are each `size` bytes. */
export async function bodySizeScenario(
  pair: Pair,
  sizes: number[],
  options: { concurrency: number; rounds: number; bytesPerRun: number },
  log: (line: string) => void,
): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = []
  for (const size of sizes) {
    const count = Math.max(
      options.concurrency * 2,
      Math.min(400, Math.floor(options.bytesPerRun / (2 * size))),
    )
    const specs = Array.from({ length: count }, (_, i) => syntheticExchange(`size-${size}-${i}`, size, size))
    const runs = await interleaved(pair, options.rounds, (server) =>
      play(server, 'streamed', specs, { concurrency: options.concurrency, repeat: 1 }),
    )
    const row: ScalingRow = {
      label: `streamed, ${options.concurrency} concurrent, ${formatBytes(size)} request + ${formatBytes(size)} response`,
      mode: 'streamed',
      concurrency: options.concurrency,
      bodyBytes: size,
      sessiontap: figures(runs.sessiontap),
      baseline: figures(runs.baseline),
    }
    log(
      `body ${formatBytes(size)}: p99 ${row.sessiontap.p99.toFixed(3)}/${row.baseline.p99.toFixed(3)} ms, ` +
        `${row.sessiontap.mbPerSec.toFixed(1)}/${row.baseline.mbPerSec.toFixed(1)} MB/s, loop max ${row.sessiontap.loopMaxMs.toFixed(1)} ms`,
    )
    rows.push(row)
  }
  return rows
}

export function formatBytes(n: number): string {
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} KiB`
  return `${n} B`
}

export interface StallResult {
  /** Longest event-loop delay of each run, ms (the whole window: replies, parsing, hashing, commits). */
  sessiontapRunsMs: number[]
  baselineRunsMs: number[]
  /** Longest GC pause of the sidecar's main thread in each run, ms. */
  sessiontapGcMaxMs: number[]
  sessiontapMedianMs: number
  sessiontapMaxMs: number
  baselineMedianMs: number
  /** Reply latency p99 of the background exchanges during the sessiontap runs, ms. */
  backgroundP99Ms: number
}

/**
 * A 10 MB request body and a 10 MB SSE response played while `background` exchanges keep 50 streams
 * in flight; the window lasts until the big turn is committed.
 */
export async function stallScenario(
  pair: Pair,
  background: HttpExchangeSpec[],
  options: { rounds: number },
  log: (line: string) => void,
): Promise<StallResult> {
  const big = syntheticExchange('stall-10mb', 10 * MiB, 10 * MiB)
  const sessiontapRuns: number[] = []
  const baselineRuns: number[] = []
  const gcPauses: number[] = []
  const p99s: number[] = []
  const { createExtProcClient } = await import('../src/emulator/client.js')
  for (let r = 0; r < options.rounds; r++) {
    for (const server of [pair.baseline, pair.sessiontap]) {
      await waitQuiet(server)
      await server.stats(true)
      const client = createExtProcClient(server.address)
      const cfg = filterFor('streamed')
      const backgroundRun = replay(client, cfg, background, { concurrency: 50, repeat: 4 })
      await new Promise((resolve) => setTimeout(resolve, 50))
      const bigRun = replay(client, cfg, [big], { concurrency: 1, repeat: 1 })
      const [summary] = await Promise.all([backgroundRun, bigRun])
      await waitQuiet(server)
      const stats = await server.stats()
      client.close()
      if (server === pair.sessiontap) {
        sessiontapRuns.push(stats.loopMaxMs)
        gcPauses.push(stats.gcMaxMs)
        p99s.push(summary.latency.all?.p99 ?? Number.NaN)
      } else baselineRuns.push(stats.loopMaxMs)
      log(
        `stall ${server.name} round ${r + 1}: loop max ${stats.loopMaxMs.toFixed(2)} ms, GC max ${stats.gcMaxMs.toFixed(2)} ms`,
      )
    }
  }
  return {
    sessiontapRunsMs: sessiontapRuns,
    baselineRunsMs: baselineRuns,
    sessiontapGcMaxMs: gcPauses,
    sessiontapMedianMs: median(sessiontapRuns),
    sessiontapMaxMs: Math.max(...sessiontapRuns),
    baselineMedianMs: median(baselineRuns),
    backgroundP99Ms: median(p99s),
  }
}

export interface MemoryResult {
  concurrency: number
  requestBytes: number
  /** Body bytes (request + response) of the exchanges held in flight at once. */
  inFlightBodyMb: number
  idleRssMb: number
  sessiontapPeakRssMb: number
  baselinePeakRssMb: number
  /** 1.5 x in-flight body bytes + 150 MB. */
  limitMb: number
}

export async function memoryScenario(pair: Pair, log: (line: string) => void): Promise<MemoryResult> {
  const concurrency = 200
  const requestBytes = MiB
  const responseBytes = 16 * 1024
  const specs = Array.from({ length: concurrency }, (_, i) =>
    syntheticExchange(`memory-${i}`, requestBytes, responseBytes),
  )
  const inFlight = specs.reduce((n, s) => n + s.request.body.length + s.response.body.length, 0) / MiB
  await waitQuiet(pair.sessiontap)
  const idle = await pair.sessiontap.stats()
  const peaks: Record<'sessiontap' | 'baseline', number> = { sessiontap: 0, baseline: 0 }
  const { createExtProcClient } = await import('../src/emulator/client.js')
  for (const side of ['baseline', 'sessiontap'] as const) {
    const server = pair[side]
    await waitQuiet(server)
    await server.stats(true)
    const client = createExtProcClient(server.address)
    await replay(client, filterFor('streamed'), specs, { concurrency, repeat: 1 })
    // The peak includes building and committing those turns, not only capturing them.
    await waitQuiet(server)
    peaks[side] = (await server.stats()).peakRssBytes / MiB
    client.close()
  }
  const result = {
    concurrency,
    requestBytes,
    inFlightBodyMb: inFlight,
    idleRssMb: idle.rssBytes / MiB,
    sessiontapPeakRssMb: peaks.sessiontap,
    baselinePeakRssMb: peaks.baseline,
    limitMb: 1.5 * inFlight + 150,
  }
  log(
    `memory: peak RSS ${result.sessiontapPeakRssMb.toFixed(0)} MB (baseline ${result.baselinePeakRssMb.toFixed(0)} MB, limit ${result.limitMb.toFixed(0)} MB) for ${inFlight.toFixed(0)} MB in flight`,
  )
  return result
}

export interface SoakResult {
  minutes: number
  concurrency: number
  exchanges: number
  /** RSS sampled once a minute (after each whole minute of replay), MB. */
  rssByMinuteMb: number[]
  rssAfter1MinMb: number
  rssAtEndMb: number
  growthMb: number
}

/** Replays the session in a loop for `minutes`, sampling the sidecar's RSS once a minute. */
export async function soakScenario(
  server: BenchServer,
  session: HttpExchangeSpec[],
  options: { minutes: number; concurrency: number },
  log: (line: string) => void,
): Promise<SoakResult> {
  const { createExtProcClient } = await import('../src/emulator/client.js')
  const client = createExtProcClient(server.address)
  const rss: number[] = []
  let exchanges = 0
  const started = Date.now()
  for (let minute = 1; minute <= options.minutes; minute++) {
    while (Date.now() - started < minute * 60_000) {
      const summary = await replay(client, filterFor('streamed'), session, {
        concurrency: options.concurrency,
        repeat: Math.max(1, Math.ceil((options.concurrency * 2) / session.length)),
      })
      exchanges += summary.exchanges
    }
    // Sampled once the minute's turns are committed, so a backlog does not pass for a leak.
    await waitQuiet(server)
    const stats = await server.stats()
    rss.push(stats.rssBytes / MiB)
    log(`soak minute ${minute}: RSS ${rss.at(-1)!.toFixed(0)} MB, ${exchanges} exchanges`)
  }
  client.close()
  return {
    minutes: options.minutes,
    concurrency: options.concurrency,
    exchanges,
    rssByMinuteMb: rss,
    rssAfter1MinMb: rss[0]!,
    rssAtEndMb: rss.at(-1)!,
    growthMb: rss.at(-1)! - rss[0]!,
  }
}
