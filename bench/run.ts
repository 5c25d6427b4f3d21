/**
 * `npm run bench`: starts an embedded Postgres (or uses DATABASE_URL), the sessiontap sidecar and a
 * do-nothing ext_proc baseline in processes of their own, runs every scenario side by side, and
 * writes bench/results/latest.json and latest.md. Flags: --soak (10-minute memory loop instead of
 * 2 minutes), --soak-minutes N, --quick (one round each, for a smoke run), --rounds N,
 * --only a,b (a subset of parse, chain, ingest, latency, sizes, stall, memory, soak: a partial report),
 * --no-embedded (latency and stall on Postgres only, not also on the embedded default).
 * BENCH_SIDECAR_EXEC_ARGV passes Node flags to the sidecar process (e.g. --cpu-prof).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { benchChainGrowth } from './chain-growth.js'
import { benchIngest } from './ingest.js'
import { benchParse } from './parse.js'
import { closeClients } from './play.js'
import { type BenchResults, renderMarkdown } from './report.js'
import {
  bodySizeScenario,
  latencyScenario,
  memoryScenario,
  type Pair,
  soakScenario,
  stallScenario,
} from './scenarios.js'
import { raisePriority, startBenchServer } from './servers.js'
import { MiB, median, spread } from './stats.js'
import { claudeCodeSession } from './workload.js'

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`)
}

function numberFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}

function only(): Set<string> | null {
  const at = process.argv.indexOf('--only')
  return at >= 0 ? new Set((process.argv[at + 1] ?? '').split(',')) : null
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`)

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    return rows[0]!.server_version
  } finally {
    await client.end()
  }
}

async function stopPair(pair: Pair): Promise<void> {
  await pair.sessiontap.stop()
  await pair.baseline.stop()
}

async function main(): Promise<void> {
  const quick = flag('quick')
  const rounds = numberFlag('rounds', quick ? 1 : 3)
  const soakMinutes = numberFlag('soak-minutes', flag('soak') ? 10 : quick ? 1 : 2)
  const selected = only()
  const wanted = (name: string) => !selected || selected.has(name)
  const outDir = path.resolve('bench/results')
  mkdirSync(outDir, { recursive: true })

  const external = process.env.DATABASE_URL
  const embedded = external ? null : await (await import('../test/helpers/postgres.js')).startTestPostgres()
  const url = external ?? embedded!.url
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-bench-'))
  let pair: Pair | undefined
  try {
    const session = claudeCodeSession()
    log(`workload: ${session.source} Claude Code session, ${session.specs.length} exchanges`)
    const results: BenchResults = {
      startedAt: new Date().toISOString(),
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        memoryGb: os.totalmem() / 1024 ** 3,
        node: process.version,
        postgres: await postgresVersion(url),
        platform: `${os.type()} ${os.release()}`,
        loadAverage: os.loadavg()[0]!,
        raisedPriority: raisePriority(),
      },
      workload: { source: session.source, exchanges: session.specs.length },
      rounds,
    }

    // CPU-bound microbenchmarks first, before any server competes for the cores.
    if (wanted('parse')) {
      log('parse and hash throughput')
      results.parse = (await benchParse()).rows
    }
    if (wanted('chain')) {
      log('CPU per turn against turn number, without and with the node cache')
      results.chainGrowth = benchChainGrowth()
    }
    if (wanted('ingest')) {
      const runs = []
      for (let r = 0; r < rounds; r++) {
        runs.push(await benchIngest({ url, turns: quick ? 1000 : 3000, concurrency: 8 }))
        log(
          `ingest round ${r + 1}: ${runs.at(-1)!.turnsPerSec.toFixed(0)} turns/s, ratio ${runs.at(-1)!.ratio.toFixed(2)}`,
        )
      }
      results.ingest = {
        runs,
        turnsPerSec: median(runs.map((r) => r.turnsPerSec)),
        rawRowsPerSec: median(runs.map((r) => r.rawRowsPerSec)),
        ingestRowsPerSec: median(runs.map((r) => r.ingestRowsPerSec)),
        ratio: median(runs.map((r) => r.ratio)),
        noise: spread(runs.map((r) => r.ratio)),
      }
    }

    const sidecarArgv = process.env.BENCH_SIDECAR_EXEC_ARGV?.split(' ').filter(Boolean) ?? []
    // `embedded`: no DATABASE_URL, so the sidecar runs on its default database, PGlite in its data dir.
    const startPair = async (database: 'postgres' | 'embedded' = 'postgres'): Promise<Pair> => ({
      sessiontap: await startBenchServer(
        'sessiontap',
        'sidecar-server.js',
        {
          ...(database === 'postgres' ? { DATABASE_URL: url } : {}),
          SESSIONTAP_DATA_DIR: mkdtempSync(path.join(dataDir, 'sidecar-')),
          SESSIONTAP_GRPC_ADDRESS: '127.0.0.1:0',
          SESSIONTAP_HTTP_ADDRESS: '127.0.0.1:0',
          SESSIONTAP_LOG_LEVEL: process.env.SESSIONTAP_LOG_LEVEL ?? 'warn',
        },
        sidecarArgv,
      ),
      baseline: await startBenchServer('baseline', 'baseline-server.js'),
    })
    // Peak RSS includes everything a process ever held (freed pages are not all returned), so the
    // memory scenario gets fresh processes, not ones that have just parsed 10 MB bodies.
    if (wanted('memory')) {
      const fresh = await startPair()
      try {
        results.memory = await memoryScenario(fresh, log)
      } finally {
        await stopPair(fresh)
      }
    }
    pair = await startPair()
    results.sessiontapStartRssMb = (await pair.sessiontap.stats()).rssBytes / MiB

    const latencyRun = (server: Pair) =>
      latencyScenario(
        server,
        session.specs,
        {
          modes: ['streamed', 'buffered'],
          concurrencies: [1, 50, 200],
          rounds,
          minExchanges: 60,
          perStream: 3,
        },
        log,
      )
    if (wanted('latency')) {
      const latency = await latencyRun(pair)
      results.latency = latency.rows
      results.scaling = latency.scaling
    }
    if (wanted('sizes')) {
      const sizes = await bodySizeScenario(
        pair,
        [10_000, 100_000, 1_000_000, 10_000_000],
        { concurrency: 4, rounds: Math.min(rounds, 2), bytesPerRun: quick ? 80 * MiB : 200 * MiB },
        log,
      )
      results.scaling = [...(results.scaling ?? []), ...sizes]
    }
    if (wanted('stall')) results.stall = await stallScenario(pair, session.specs, { rounds }, log)
    // The same two scenarios on the embedded default, a fresh sidecar of its own.
    if ((wanted('latency') || wanted('stall')) && !flag('no-embedded')) {
      log('latency and stall on the embedded default (PGlite)')
      const embeddedPair = await startPair('embedded')
      try {
        results.embedded = {}
        if (wanted('latency')) {
          const latency = await latencyRun(embeddedPair)
          results.embedded.latency = latency.rows
          results.embedded.scaling = latency.scaling
        }
        if (wanted('stall'))
          results.embedded.stall = await stallScenario(embeddedPair, session.specs, { rounds }, log)
      } finally {
        await stopPair(embeddedPair)
      }
    }
    if (wanted('soak'))
      results.soak = await soakScenario(
        pair.sessiontap,
        session.specs,
        { minutes: soakMinutes, concurrency: 50 },
        log,
      )

    const name = selected ? `partial-${[...selected].join('-')}` : 'latest'
    writeFileSync(path.join(outDir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`)
    writeFileSync(path.join(outDir, `${name}.md`), renderMarkdown(results))
    log(`wrote ${path.join(outDir, `${name}.md`)} and ${name}.json`)
    process.stdout.write(renderMarkdown(results))
  } finally {
    closeClients()
    if (pair) await stopPair(pair)
    await embedded?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
