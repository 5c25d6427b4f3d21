/**
 * CPU per turn against turn number, without and with the node cache (docs/performance.md, "Chain
 * growth"): a synthetic 200-turn coding-agent conversation in Anthropic Messages and OpenAI Chat
 * form, and the recorded 17-call Claude Code session when ../shared/corpus is there. Then where a
 * turn-200 build spends its CPU, and what the cache holds. Run: `npx tsx --expose-gc bench/chain-growth.ts`.
 */
import { hash } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import type { Exchange } from '../src/exchange.js'
import { DEFAULT_PRICES } from '../src/pricing/prices.js'
import { parseRequest } from '../src/providers/index.js'
import { buildTurn, nodeCacheFor, type TurnBuildOptions } from '../src/recorder/turn-builder.js'
import { canonicalJson } from '../src/session/canonical-json.js'
import { hashProjected } from '../src/session/chain.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../src/session/envelope-options.js'
import { projectMessage } from '../src/session/projection.js'
import { compileRedaction } from '../src/session/redaction.js'
import { encodeNodes } from '../src/store/node-records.js'
import { compressRawBody } from '../src/store/raw-body-codec.js'
import { conversation } from '../test/helpers/conversation.js'
import { claudeCodeExchanges } from '../test/helpers/corpus.js'
import { median } from './stats.js'
import { CORPUS_DIR } from './workload.js'

const ROUNDS = 5
const TURNS = 200
const REPORTED_TURNS = [2, 50, 100, 200]

const options = (nodeCacheBytes?: number): TurnBuildOptions => ({
  envelope: DEFAULT_ENVELOPE_OPTIONS,
  prices: DEFAULT_PRICES,
  storeContent: true,
  ...(nodeCacheBytes === undefined ? {} : { nodeCacheBytes }),
})

const cpuMs = (fn: () => void): number => {
  const start = process.cpuUsage()
  fn()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

/**
 * Median CPU ms of each turn over ROUNDS plays of the whole conversation, each play with fresh
 * options (so a fresh cache): turn N sees the cache turns 1..N-1 left, as a parse worker would.
 */
function perTurn(exchanges: readonly Exchange[], nodeCacheBytes: number | undefined): number[] {
  const runs = exchanges.map(() => [] as number[])
  for (let round = 0; round < ROUNDS; round++) {
    const opts = options(nodeCacheBytes)
    exchanges.forEach((exchange, i) => {
      runs[i]!.push(
        cpuMs(() => {
          const result = buildTurn(exchange, opts)
          if (!result.ok) throw new Error(`turn ${i + 1} dropped: ${result.reason}`)
        }),
      )
    })
  }
  return runs.map(median)
}

export interface GrowthRow {
  name: string
  turns: number[]
  beforeMs: number[]
  afterMs: number[]
}

function growth(name: string, exchanges: readonly Exchange[], turns: number[]): GrowthRow {
  const before = perTurn(exchanges, 0)
  const after = perTurn(exchanges, undefined)
  return {
    name,
    turns,
    beforeMs: turns.map((t) => before[t - 1]!),
    afterMs: turns.map((t) => after[t - 1]!),
  }
}

const timed = (fn: () => void): number => {
  const runs = Array.from({ length: 15 }, () => cpuMs(fn))
  return median(runs)
}

/** Where one uncached build of `exchange` spends its CPU, phase by phase (ms). */
function phases(exchange: Exchange): Array<[string, number]> {
  const bytes = exchange.request.body.chunks[0]!
  const api = exchange.request.path.startsWith('/v1/messages') ? 'anthropic.messages' : 'openai.chat'
  const parsed = parseRequest(api, bytes, exchange.request.path)
  if (!parsed.ok) throw new Error(parsed.reason)
  const { messages } = parsed.value
  const redaction = compileRedaction()
  const projected = messages.map((m) => projectMessage(m.role, m.content))
  const parent = 'f'.repeat(64)
  const turn = buildTurn(exchange, options(0))
  if (!turn.ok) throw new Error(turn.reason)
  const jsonParse = timed(() => JSON.parse(bytes.toString('utf8')))
  return [
    ['JSON.parse of the body', jsonParse],
    [
      'provider parse (beyond JSON.parse)',
      timed(() => parseRequest(api, bytes, exchange.request.path)) - jsonParse,
    ],
    ['redaction', timed(() => redaction.redactor().deep(messages))],
    ['projection', timed(() => messages.map((m) => projectMessage(m.role, m.content)))],
    ['canonical JSON', timed(() => projected.map((c) => canonicalJson({ parent, content: c })))],
    ['canonical JSON + SHA-256', timed(() => projected.map((c) => hashProjected(parent, c)))],
    [
      'raw body redaction (whole body as text)',
      timed(() => redaction.redactor().text(bytes.toString('utf8'))),
    ],
    ['raw body compression', timed(() => compressRawBody(bytes, true))],
    ['whole buildTurn, no cache', timed(() => buildTurn(exchange, options(0)))],
    // What a warm cache still does for every resent message: its key.
    [
      'cache keys (JSON.stringify + SHA-256)',
      timed(() => messages.map((m) => hash('sha256', JSON.stringify(m), 'hex'))),
    ],
    ['node encoding (worker, after buildTurn)', timed(() => encodeNodes(turn.turn.nodes))],
  ]
}

/** The cache after one 200-turn play: its own estimate, and the heap it really added (with --expose-gc). */
function cacheMemory(exchanges: readonly Exchange[]): {
  estimateMb: number
  heapMb: number | null
  entries: number
} {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const heapBefore = process.memoryUsage().heapUsed
  const opts = options()
  for (const exchange of exchanges) buildTurn(exchange, opts)
  gc?.()
  const heapAfter = process.memoryUsage().heapUsed
  const stats = nodeCacheFor(opts)!.stats()
  return {
    estimateMb: stats.bytes / 2 ** 20,
    heapMb: gc ? (heapAfter - heapBefore) / 2 ** 20 : null,
    entries: stats.entries,
  }
}

export function benchChainGrowth(): GrowthRow[] {
  const rows = (['anthropic', 'openai'] as const).map((format) =>
    growth(`synthetic ${format}, ${TURNS} turns`, conversation(format, TURNS), REPORTED_TURNS),
  )
  // The bench runs from the repository (compiled too), so the corpus is found from the working directory.
  const corpus = claudeCodeExchanges(CORPUS_DIR)
  if (corpus) rows.push(growth('recorded Claude Code session', corpus, [2, 9, 17]))
  else console.warn(`chain-growth: the recorded session is not at ${CORPUS_DIR}; skipped`)
  return rows
}

function printRows(rows: readonly GrowthRow[]): void {
  for (const row of rows) {
    console.log(`\n${row.name}: CPU ms per turn (median of ${ROUNDS} plays)`)
    console.log(`${'turn'.padStart(6)} ${'before'.padStart(8)} ${'after'.padStart(8)}`)
    row.turns.forEach((t, i) => {
      console.log(
        `${String(t).padStart(6)} ${row.beforeMs[i]!.toFixed(2).padStart(8)} ${row.afterMs[i]!.toFixed(2).padStart(8)}`,
      )
    })
    const last = row.turns.length - 1
    console.log(
      `turn${row.turns[last]}/turn${row.turns[0]}: before ${(row.beforeMs[last]! / row.beforeMs[0]!).toFixed(1)}×, after ${(row.afterMs[last]! / row.afterMs[0]!).toFixed(1)}×`,
    )
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printRows(benchChainGrowth())
  for (const format of ['anthropic', 'openai'] as const) {
    const exchanges = conversation(format, TURNS)
    console.log(
      `\n${format} turn ${TURNS} (${(exchanges.at(-1)!.request.body.size / 1024).toFixed(0)} KB request): CPU ms`,
    )
    for (const [name, ms] of phases(exchanges.at(-1)!))
      console.log(`${name.padEnd(42)} ${ms.toFixed(2).padStart(7)}`)
    const memory = cacheMemory(exchanges)
    console.log(
      `cache after ${TURNS} turns: ${memory.entries} entries, estimate ${memory.estimateMb.toFixed(1)} MB, heap added ${memory.heapMb === null ? 'n/a (run with --expose-gc)' : `${memory.heapMb.toFixed(1)} MB`}`,
    )
  }
}
