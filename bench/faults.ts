/**
 * `npm run faults`: the fault table of docs/reliability.md, from a run. `sessiontap serve` runs as its
 * own process on an embedded Postgres this script can stop; the Envoy emulator sends the hand-written
 * cases at concurrency 50 with fresh request ids, and every request id that got all its replies is
 * then looked up in `turns`: lost (answered, never stored) and duplicated (stored twice) are counted.
 * Writes bench/results/faults.md. Takes a few minutes.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { filterForMode } from '../src/cli/replay.js'
import { loadExchangeCases } from '../src/emulator/cases.js'
import { createExtProcClient } from '../src/emulator/client.js'
import { runExchange } from '../src/emulator/emulator.js'
import { replay } from '../src/emulator/replay.js'
import { emptyStats, type HttpExchangeSpec } from '../src/emulator/types.js'
import { startEmbeddedPostgres } from '../test/helpers/embedded-postgres.js'
import { type ServeProcess, startServe } from '../test/helpers/serve-process.js'

const ROOT = path.resolve(import.meta.dirname, '..')
const CASES = loadExchangeCases([path.join(ROOT, 'test/fixtures/cases')]).map((c) => c.spec)
const CONCURRENCY = 50
/** `--after-s N`: how long RSS is watched after the outage's backlog drained (default 20 s; docs use 300). */
const afterFlag = process.argv.indexOf('--after-s')
const AFTER_DRAIN_S = afterFlag > 0 ? Number(process.argv[afterFlag + 1]) : 20
const log = (line: string) => process.stderr.write(`[faults] ${line}\n`)

interface Row {
  fault: string
  answered: number
  lost: number
  duplicated: number
  note: string
}

/** A metric summed over its label sets, or only those whose labels contain `labels` (e.g. `reason="x"`). */
async function metric(http: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text()
  let sum = 0
  for (const match of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.e+]+)$`, 'gm'))) {
    if ((match[1] ?? '').includes(labels)) sum += Number(match[2])
  }
  return sum
}

/** When each answered request id got its last reply. */
const answeredAt = new Map<string, number>()

/** Sends the cases over and over until `stop` resolves; returns the request ids that got every reply. */
async function load(grpc: string, stop: Promise<unknown>): Promise<string[]> {
  const client = createExtProcClient(grpc)
  const answered: string[] = []
  let stopped = false
  void stop.then(() => {
    stopped = true
  })
  const cfg = { ...filterForMode('streamed'), messageTimeoutMs: 3000 }
  while (!stopped) {
    await replay(client, cfg, CASES, {
      concurrency: CONCURRENCY,
      repeat: 5,
      requestId: () => crypto.randomUUID(),
      onExchange: (_spec, result) => {
        if (!result.localReply && result.violations.length === 0) {
          answered.push(result.requestId)
          answeredAt.set(result.requestId, performance.now())
        }
      },
    })
  }
  client.close()
  return answered
}

/** Waits until every answered id is stored or nothing changed for 10 s; returns lost and duplicated. */
async function settle(
  url: string,
  ids: string[],
): Promise<{ lost: number; duplicated: number; lostIds: string[] }> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    let last = -1
    let since = Date.now()
    for (;;) {
      const { rows } = await client.query<{ request_id: string; n: string }>(
        'SELECT request_id, count(*) AS n FROM turns WHERE request_id = ANY($1) GROUP BY request_id',
        [ids],
      )
      const stored = rows.length
      if (stored !== last) {
        last = stored
        since = Date.now()
      }
      if (stored === ids.length || Date.now() - since > 10_000) {
        const found = new Set(rows.map((r) => r.request_id))
        const duplicated = rows.reduce((n, r) => n + Number(r.n) - 1, 0)
        return { lost: ids.length - stored, duplicated, lostIds: ids.filter((id) => !found.has(id)) }
      }
      await sleep(250)
    }
  } finally {
    await client.end()
  }
}

async function exitTime(child: ServeProcess, signal: NodeJS.Signals): Promise<number> {
  const started = performance.now()
  child.child.kill(signal)
  await child.exited
  return performance.now() - started
}

async function main() {
  const db = await startEmbeddedPostgres()
  const url = db.urlFor('postgres')
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-faults-'))
  const env = { DATABASE_URL: url, SESSIONTAP_DATA_DIR: dataDir, SESSIONTAP_LOG_LEVEL: 'info' }
  const rows: Row[] = []
  const serve = async () => {
    const child = startServe(env)
    return { child, ...(await child.addresses) }
  }
  try {
    // Idle SIGTERM.
    let s = await serve()
    const idleMs = await exitTime(s.child, 'SIGTERM')
    rows.push({
      fault: 'SIGTERM, idle',
      answered: 0,
      lost: 0,
      duplicated: 0,
      note: `exit ${idleMs.toFixed(0)} ms after the signal`,
    })
    log(rows.at(-1)!.note)

    // SIGTERM under load.
    s = await serve()
    let ids = load(s.grpc, sleep(5000))
    await sleep(4000)
    const termMs = await exitTime(s.child, 'SIGTERM')
    let answered = await ids
    s = await serve()
    const afterTerm = await settle(url, answered)
    rows.push({
      fault: 'SIGTERM under load',
      answered: answered.length,
      lost: afterTerm.lost,
      duplicated: afterTerm.duplicated,
      note: `exit ${termMs.toFixed(0)} ms after the signal`,
    })
    log(JSON.stringify(rows.at(-1)))

    // SIGKILL under load.
    ids = load(s.grpc, sleep(5000))
    await sleep(4000)
    const killedAt = performance.now()
    s.child.child.kill('SIGKILL')
    await s.child.exited
    answered = await ids
    s = await serve()
    const recovered = await settle(url, answered)
    // The journal's promise: nothing answered more than one sync interval (100 ms) before the kill is lost.
    const lostEarly = recovered.lostIds.filter(
      (id) => (answeredAt.get(id) ?? killedAt) < killedAt - 100,
    ).length
    rows.push({
      fault: 'SIGKILL under load',
      answered: answered.length,
      lost: recovered.lost,
      duplicated: recovered.duplicated,
      note: `${await metric(s.http, 'sessiontap_recorder_journal_replayed_total')} exchanges recovered from the journal; lost and answered more than 100 ms before the kill: ${lostEarly}`,
    })
    log(JSON.stringify(rows.at(-1)))

    // Postgres stopped for 10 s under load.
    let slowest = 0
    const client = createExtProcClient(s.grpc)
    const probe = (async () => {
      const until = Date.now() + 16_000
      while (Date.now() < until) {
        const r = await runExchange(
          client,
          { ...filterForMode('streamed'), messageTimeoutMs: 3000 },
          CASES[0]!,
          emptyStats(),
        )
        for (const l of r.latencies) slowest = Math.max(slowest, l.ms)
        await sleep(50)
      }
    })()
    const rss = () => metric(s.http, 'sessiontap_process_resident_memory_bytes')
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`
    const rssIdle = await rss()
    ids = load(s.grpc, sleep(16_000))
    await sleep(3000)
    const rssBefore = await rss()
    await db.stop()
    await sleep(10_000)
    const rssPeak = await rss()
    await db.start()
    answered = await ids
    await probe
    client.close()
    const afterOutage = await settle(url, answered)
    // Memory after the backlog drained: does it come back? Sampled every 10 s; the last sample is reported.
    const samples: string[] = []
    for (let waited = 0; waited < AFTER_DRAIN_S; ) {
      const step = Math.min(10, AFTER_DRAIN_S - waited)
      await sleep(step * 1000)
      waited += step
      samples.push(`${waited} s: ${mb(await rss())}`)
    }
    log(`RSS after the drain: ${samples.join(', ')}`)
    const rssAfter = await rss()
    // Which memory stayed: the JS heap (objects still referenced) or memory the process did not give back.
    const heapUsed = await metric(s.http, 'sessiontap_nodejs_heap_size_used_bytes')
    const heapTotal = await metric(s.http, 'sessiontap_nodejs_heap_size_total_bytes')
    const releases = await metric(s.http, 'sessiontap_recorder_memory_releases_total')
    const released = s.child.lines.find((line) => line.includes('memory given back'))
    const pause = released ? (JSON.parse(released) as { pauseMs: number }).pauseMs : undefined
    rows.push({
      fault: 'Postgres stopped 10 s under load',
      answered: answered.length,
      lost: afterOutage.lost,
      duplicated: afterOutage.duplicated,
      note: `slowest reply of a probe during it: ${slowest.toFixed(1)} ms; RSS ${mb(rssIdle)} idle and ${mb(rssBefore)} under load before, ${mb(rssPeak)} at the end of the outage, ${mb(rssAfter)} ${AFTER_DRAIN_S} s after the backlog drained (JS heap ${mb(heapUsed)} in use of ${mb(heapTotal)}; ${releases} compacting GC after the drain, pause ${pause ?? '-'} ms)`,
    })
    log(JSON.stringify(rows.at(-1)))

    // Compression bombs: 8 in parallel, each 10 MB of zeros in 326 bytes of zstd.
    const bomb = readFileSync(path.join(ROOT, 'test/fixtures/bombs/zeros-10mb.zst'))
    const rssBeforeBombs = await rss()
    const bombClient = createExtProcClient(s.grpc)
    const spec: HttpExchangeSpec = {
      ...CASES[0]!,
      request: {
        ...CASES[0]!.request,
        headers: [...CASES[0]!.request.headers, ['content-encoding', 'zstd']],
        body: bomb,
      },
    }
    await Promise.all(
      Array.from({ length: 8 }, () =>
        runExchange(bombClient, { ...filterForMode('buffered'), messageTimeoutMs: 5000 }, spec, emptyStats()),
      ),
    )
    bombClient.close()
    await sleep(2000)
    const rssAfterBombs = await rss()
    const dropped = await metric(s.http, 'sessiontap_recorder_dropped_total', 'reason="decoded_too_large"')
    rows.push({
      fault: '8 zstd bombs at once (10 MB of zeros in 326 bytes each)',
      answered: 8,
      lost: 0,
      duplicated: 0,
      note: `dropped as decoded_too_large: ${dropped}; RSS ${mb(rssBeforeBombs)} before, ${mb(rssAfterBombs)} after`,
    })
    log(JSON.stringify(rows.at(-1)))
    await exitTime(s.child, 'SIGTERM')
  } finally {
    await db.destroy()
  }
  const table = [
    `# sessiontap fault run (${new Date().toISOString()})`,
    '',
    `Load: the cases of test/fixtures/cases, fresh request ids, concurrency ${CONCURRENCY}; "answered" = exchanges that got every reply.`,
    '',
    '| fault | answered | lost | duplicated | note |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.fault} | ${r.answered} | ${r.lost} | ${r.duplicated} | ${r.note} |`),
    '',
  ].join('\n')
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true })
  writeFileSync(path.join(ROOT, 'bench/results/faults.md'), table)
  process.stdout.write(table)
}

await main()
