/** Renders the benchmark results as the markdown report (tables, targets met or not). */
import type { GrowthRow } from './chain-growth.js'
import type { BenchIngestResult } from './ingest.js'
import type { LatencyRow, MemoryResult, ScalingRow, SoakResult, StallResult } from './scenarios.js'

export interface BenchResults {
  startedAt: string
  machine: {
    cpu: string
    cores: number
    memoryGb: number
    node: string
    postgres: string
    platform: string
    /** 1-minute load average when the run began: other work on the box adds noise. */
    loadAverage: number
    /** The bench's processes ran at nice -10 (root only). */
    raisedPriority: boolean
  }
  workload: { source: 'corpus' | 'stand-in'; exchanges: number }
  rounds: number
  sessiontapStartRssMb?: number
  latency?: LatencyRow[]
  scaling?: ScalingRow[]
  stall?: StallResult
  /** The same latency and stall scenarios with the sidecar on its embedded default (PGlite), no DATABASE_URL. */
  embedded?: { latency?: LatencyRow[]; scaling?: ScalingRow[]; stall?: StallResult }
  ingest?: {
    runs: BenchIngestResult[]
    turnsPerSec: number
    rawRowsPerSec: number
    ingestRowsPerSec: number
    ratio: number
    noise: number
  }
  parse?: Array<{ name: string; mbPerSec: number; baselineMbPerSec: number }>
  chainGrowth?: GrowthRow[]
  memory?: MemoryResult
  soak?: SoakResult
}

const f = (n: number, digits = 3) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')
const pct = (n: number) => `${(n * 100).toFixed(0)}%`

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
}

export interface Target {
  name: string
  value: string
  limit: string
  met: boolean
}

/** Issue 15's targets: ratios to the do-nothing server in the same run, on each database the run used. */
function latencyTargets(
  db: string,
  rows: LatencyRow[] | undefined,
  stall: StallResult | undefined,
): Target[] {
  const out: Target[] = []
  for (const row of rows?.filter((x) => x.kind === 'all') ?? []) {
    const at = `${row.mode}, ${row.concurrency} in flight, ${db}`
    out.push({
      name: `reply p50, ${at}`,
      value: `${f(row.ratio.p50, 2)}x (${f(row.sessiontap.p50)} vs ${f(row.baseline.p50)} ms)`,
      limit: '<= 1.1x',
      met: row.ratio.p50 <= 1.1,
    })
    out.push({
      name: `reply p99, ${at}`,
      value: `${f(row.ratio.p99, 2)}x (${f(row.sessiontap.p99)} vs ${f(row.baseline.p99)} ms)`,
      limit: '<= 1.3x',
      met: row.ratio.p99 <= 1.3,
    })
  }
  if (stall) {
    const baselineMax = Math.max(...stall.baselineRunsMs)
    out.push({
      name: `longest event-loop delay, 10 MB request + 10 MB SSE, ${db}`,
      value: `${f(stall.sessiontapMaxMs, 1)} ms (baseline ${f(baselineMax, 1)} ms: ${f(stall.sessiontapMaxMs / baselineMax, 2)}x)`,
      limit: '<= 1.2x the baseline',
      met: stall.sessiontapMaxMs <= 1.2 * baselineMax,
    })
  }
  return out
}

export function targets(r: BenchResults): Target[] {
  const out: Target[] = [
    ...latencyTargets('Postgres', r.latency, r.stall),
    ...latencyTargets('embedded', r.embedded?.latency, r.embedded?.stall),
  ]
  if (r.ingest)
    out.push({
      name: 'ingest vs raw INSERT (rows/s)',
      value: `${pct(r.ingest.ratio)} (${f(r.ingest.turnsPerSec, 0)} turns/s)`,
      limit: '>= 50%',
      met: r.ingest.ratio >= 0.5,
    })
  if (r.memory)
    out.push({
      name: 'peak RSS, 200 x 1 MiB requests',
      value: `${f(r.memory.sessiontapPeakRssMb, 0)} MB`,
      limit: `<= ${f(r.memory.limitMb, 0)} MB`,
      met: r.memory.sessiontapPeakRssMb <= r.memory.limitMb,
    })
  if (r.soak)
    out.push({
      name: `RSS growth over ${r.soak.minutes} min replay loop`,
      value: `${f(r.soak.growthMb, 0)} MB (${f(r.soak.rssAfter1MinMb, 0)} -> ${f(r.soak.rssAtEndMb, 0)} MB)`,
      limit: 'none (<= 5% of RSS)',
      met: r.soak.growthMb <= 0.05 * r.soak.rssAfter1MinMb,
    })
  return out
}

function latencySection(rows: LatencyRow[], db: string): string[] {
  return [
    `## Reply latency (ms), ${db}: sessiontap vs do-nothing grpc-js baseline`,
    '',
    table(
      [
        'mode',
        'conc.',
        'message',
        'n',
        'p50',
        'base p50',
        'ratio',
        'p99',
        'base p99',
        'ratio',
        'p99.9',
        'base p99.9',
        'ratio',
        'noise p50/p99',
      ],
      rows.map((row) => [
        row.mode,
        String(row.concurrency),
        row.kind,
        String(row.sessiontap.count),
        f(row.sessiontap.p50),
        f(row.baseline.p50),
        f(row.ratio.p50, 2),
        f(row.sessiontap.p99),
        f(row.baseline.p99),
        f(row.ratio.p99, 2),
        f(row.sessiontap.p999),
        f(row.baseline.p999),
        f(row.ratio.p999, 2),
        `${pct(row.noise.p50)} / ${pct(row.noise.p99)}`,
      ]),
    ),
    '',
  ]
}

function scalingSection(rows: ScalingRow[], db: string): string[] {
  return [
    `## Scaling, ${db} (all messages; sessiontap / baseline)`,
    '',
    table(
      ['run', 'p50 ms', 'p99 ms', 'exchanges/s', 'MB/s', 'peak RSS MB', 'loop max ms'],
      rows.map((s) => [
        s.label,
        `${f(s.sessiontap.p50)} / ${f(s.baseline.p50)}`,
        `${f(s.sessiontap.p99)} / ${f(s.baseline.p99)}`,
        `${f(s.sessiontap.exchangesPerSec, 0)} / ${f(s.baseline.exchangesPerSec, 0)}`,
        `${f(s.sessiontap.mbPerSec, 1)} / ${f(s.baseline.mbPerSec, 1)}`,
        `${f(s.sessiontap.peakRssMb, 0)} / ${f(s.baseline.peakRssMb, 0)}`,
        `${f(s.sessiontap.loopMaxMs, 1)} / ${f(s.baseline.loopMaxMs, 1)}`,
      ]),
    ),
    '',
  ]
}

function stallSection(s: StallResult, db: string): string[] {
  return [
    `## Event-loop stall, ${db}: 10 MB request + 10 MB SSE response, 50 other exchanges in flight`,
    '',
    `sessiontap runs: ${s.sessiontapRunsMs.map((v) => f(v, 1)).join(', ')} ms (median ${f(s.sessiontapMedianMs, 1)}, worst ${f(s.sessiontapMaxMs, 1)}); ` +
      `baseline runs: ${s.baselineRunsMs.map((v) => f(v, 1)).join(', ')} ms. Longest GC pause of the sidecar's main thread per run: ${s.sessiontapGcMaxMs.map((v) => f(v, 1)).join(', ')} ms. ` +
      `Reply p99 of the background exchanges during the sessiontap runs: ${f(s.backgroundP99Ms)} ms.`,
    '',
  ]
}

function ingestSection(i: NonNullable<BenchResults['ingest']>): string[] {
  return [
    '## Ingest throughput on PostgreSQL',
    '',
    table(
      ['', 'turns/s', 'rows/s', 'ratio of rows/s'],
      [
        [
          'store.ingestBatch (group commit, 16 turns per transaction)',
          f(i.turnsPerSec, 0),
          f(i.ingestRowsPerSec, 0),
          pct(i.ratio),
        ],
        ['raw multi-row INSERT of the same rows', '', f(i.rawRowsPerSec, 0), '100%'],
      ],
    ),
    '',
    `Runs (ratio): ${i.runs.map((x) => f(x.ratio, 2)).join(', ')}; spread ${pct(i.noise)}.`,
    '',
  ]
}

function parseSection(rows: NonNullable<BenchResults['parse']>): string[] {
  return [
    '## Parse and hash throughput (single thread)',
    '',
    table(
      ['body', 'sessiontap MB/s', 'JSON.parse + SHA-256 MB/s', 'ratio'],
      rows.map((p) => [
        p.name,
        f(p.mbPerSec, 1),
        f(p.baselineMbPerSec, 1),
        f(p.mbPerSec / p.baselineMbPerSec, 2),
      ]),
    ),
    '',
  ]
}

function chainGrowthSection(rows: readonly GrowthRow[]): string[] {
  return [
    '## CPU per turn against turn number (buildTurn, median ms)',
    '',
    table(
      ['conversation', 'turn', 'no cache', 'node cache'],
      rows.flatMap((row) =>
        row.turns.map((t, i) => [row.name, String(t), f(row.beforeMs[i]!, 2), f(row.afterMs[i]!, 2)]),
      ),
    ),
    '',
  ]
}

function memorySection(mem: MemoryResult | undefined, soak: SoakResult | undefined): string[] {
  const out = ['## Memory', '']
  if (mem)
    out.push(
      `Peak RSS with ${mem.concurrency} concurrent exchanges of ${(mem.requestBytes / 1048576).toFixed(0)} MiB requests ` +
        `(${f(mem.inFlightBodyMb, 0)} MB of bodies in flight): sessiontap ${f(mem.sessiontapPeakRssMb, 0)} MB ` +
        `(idle before: ${f(mem.idleRssMb, 0)} MB), baseline ${f(mem.baselinePeakRssMb, 0)} MB; limit ${f(mem.limitMb, 0)} MB.`,
      '',
    )
  if (soak)
    out.push(
      `Replay loop (${soak.minutes} min, ${soak.concurrency} concurrent, ${soak.exchanges} exchanges): RSS by minute ` +
        `${soak.rssByMinuteMb.map((v) => f(v, 0)).join(', ')} MB; after 1 min ${f(soak.rssAfter1MinMb, 0)} MB, at the end ${f(soak.rssAtEndMb, 0)} MB.`,
      '',
    )
  return out
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine
  return [
    `# sessiontap benchmark results (${r.startedAt})`,
    '',
    `Machine: ${m.cores} x ${m.cpu}, ${m.memoryGb.toFixed(0)} GB, ${m.platform}; Node ${m.node}; PostgreSQL ${m.postgres}; ` +
      `load average ${m.loadAverage.toFixed(1)} at the start; bench processes ${m.raisedPriority ? 'at nice -10' : 'at normal priority'}.`,
    `Workload: ${r.workload.source} Claude Code session (${r.workload.exchanges} exchanges). Medians of ${r.rounds} interleaved rounds.`,
    '',
    '## Targets',
    '',
    table(
      ['target', 'measured', 'limit', 'met'],
      targets(r).map((t) => [t.name, t.value, t.limit, t.met ? 'yes' : '**no**']),
    ),
    '',
    ...(r.latency ? latencySection(r.latency, 'Postgres') : []),
    ...(r.scaling ? scalingSection(r.scaling, 'Postgres') : []),
    ...(r.stall ? stallSection(r.stall, 'Postgres') : []),
    ...(r.embedded?.latency ? latencySection(r.embedded.latency, 'embedded PGlite') : []),
    ...(r.embedded?.scaling ? scalingSection(r.embedded.scaling, 'embedded PGlite') : []),
    ...(r.embedded?.stall ? stallSection(r.embedded.stall, 'embedded PGlite') : []),
    ...(r.ingest ? ingestSection(r.ingest) : []),
    ...(r.parse ? parseSection(r.parse) : []),
    ...(r.chainGrowth ? chainGrowthSection(r.chainGrowth) : []),
    ...(r.memory || r.soak ? memorySection(r.memory, r.soak) : []),
  ].join('\n')
}
