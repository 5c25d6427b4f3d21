/**
 * Store ingest throughput: turns with a 20-message history (a repeated 18-message prefix plus new
 * messages) committed through store.ingestBatch by concurrent writers that each take up to `batch`
 * queued turns per transaction, as the recorder's writers do under load, next to plain multi-row
 * INSERTs of the same rows (sessions + nodes + turns) into the same database in the same run.
 * Run standalone: `npx tsx bench/ingest.ts [postgres-url]` (embedded Postgres when no URL is given).
 */
import { createHash, randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { v7 as uuidv7 } from 'uuid'
import type { ChainNode, Turn } from '../src/session/turn.js'
import type { SqlSession } from '../src/store/driver.js'
import { openStore, type Store } from '../src/store/store.js'
import { makeTurn } from '../test/store/turn-factory.js'

export interface BenchIngestOptions {
  url: string
  /** Turns to commit in each phase (default 2000). */
  turns?: number
  /** Concurrent writers in each phase (default 8). */
  concurrency?: number
  /** Turns a writer commits per transaction (default 16, the recorder's default; 1: store.ingest). */
  batch?: number
}

export interface BenchIngestResult {
  /** Turns per second through store.ingestBatch (store.ingest when batch is 1). */
  turnsPerSec: number
  /** Rows (sessions + nodes + turns) per second written through the store. */
  ingestRowsPerSec: number
  /** Rows per second through plain multi-row INSERTs of the same rows. */
  rawRowsPerSec: number
  /** Ingest rows/s divided by raw rows/s: 1 would mean ingest costs no more than a bulk insert. */
  ratio: number
}

const TURNS_PER_SESSION = 20
const HISTORY = 20
const SHARED_PREFIX = 18
const RAW_BATCH_TURNS = 50
const FILLER = 'The agent read the file, ran the tests and reported what it found. '.repeat(12)

function node(parentHash: string | null, role: string, text: string): ChainNode {
  const content = { role, content: [{ type: 'text', text }] }
  const hash = createHash('sha256')
    .update(JSON.stringify([parentHash, content]))
    .digest('hex')
  return { hash, parentHash, role, content }
}

function extend(nodes: ChainNode[], role: string, text: string): ChainNode[] {
  return [...nodes, node(nodes.at(-1)?.hash ?? null, role, text)]
}

/**
 * Session s, turn k: two messages shared by every session (system prompt, tool list), 16 per
 * session messages repeated on each of its turns, then 2 new request messages and the response.
 */
function workload(orgId: string, turns: number): Turn[] {
  const sessionCount = Math.max(1, Math.ceil(turns / TURNS_PER_SESSION))
  let common: ChainNode[] = []
  common = extend(common, 'system', `You are a coding agent. ${FILLER}`)
  common = extend(common, 'user', `Tools: read, write, bash. ${FILLER}`)
  const prefixes = Array.from({ length: sessionCount }, (_, s) => {
    let prefix = common
    for (let i = prefix.length; i < SHARED_PREFIX; i++) {
      prefix = extend(prefix, i % 2 ? 'assistant' : 'user', `session ${s} message ${i}. ${FILLER}`)
    }
    return prefix
  })
  const result: Turn[] = []
  // Round-robin over sessions, so concurrent writers mostly hit different sessions.
  for (let k = 0; result.length < turns; k++) {
    for (let s = 0; s < sessionCount && result.length < turns; s++) {
      let nodes = prefixes[s]!
      for (let i = SHARED_PREFIX; i < HISTORY; i++) {
        nodes = extend(nodes, i % 2 ? 'assistant' : 'user', `session ${s} turn ${k} message ${i}. ${FILLER}`)
      }
      nodes = extend(nodes, 'assistant', `session ${s} turn ${k} answer. ${FILLER}`)
      result.push(
        makeTurn({
          envelope: {
            orgId,
            authSubject: 'bench@example.com',
            harnessSessionId: `bench-session-${s}`,
            harnessVersion: '2.0.0',
            cwd: '/work',
            name: `bench ${s}`,
            harnessMetadata: { bench: true },
          },
          usage: {
            inputTokens: 5000,
            outputTokens: 300,
            cacheReadTokens: 4500,
            cacheCreationTokens: 200,
            reasoningTokens: null,
            status: 'reported',
          },
          costUsd: 0.0123,
          startedAt: new Date(Date.UTC(2026, 0, 1, 0, k, s)),
          latencyMs: 2500,
          ttftMs: 400,
          nodes,
          requestLeafHash: nodes.at(-2)!.hash,
          responseHash: nodes.at(-1)!.hash,
          providerResponseId: `msg_${k}_${s}`,
        }),
      )
    }
  }
  return result
}

/** Splits items into consecutive chunks of at most `size`: what `concurrency` writers take off a full queue. */
function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, (i + 1) * size),
  )
}

/** Commits turns as the recorder's writers do: up to `batch` per transaction, `concurrency` at once. */
async function commitAll(store: Store, turns: Turn[], concurrency: number, batch: number): Promise<void> {
  await inParallel(chunks(turns, batch), concurrency, async (chunk) => {
    if (chunk.length === 1) await store.ingest(chunk[0]!)
    else await store.ingestBatch(chunk.map((turn) => ({ turn })))
  })
}

async function inParallel<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

function placeholders(rows: number, casts: string[]): string {
  const width = casts.length
  return Array.from(
    { length: rows },
    (_, r) => `(${casts.map((cast, c) => `$${r * width + c + 1}${cast}`).join(', ')})`,
  ).join(', ')
}

const TURN_COLUMNS = [
  'id',
  'org_id',
  'session_id',
  'turn_index',
  'request_id',
  'provider',
  'api',
  'model',
  'response_model',
  'status_code',
  'is_streaming',
  'is_complete',
  'stop_reason',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_creation_tokens',
  'usage_status',
  'cost_usd',
  'latency_ms',
  'ttft_ms',
  'request_leaf_hash',
  'response_hash',
  'provider_response_id',
  'started_at',
]

function turnValues(turn: Turn, sessionId: string, turnIndex: number): unknown[] {
  const u = turn.usage
  return [
    uuidv7(),
    turn.envelope.orgId,
    sessionId,
    turnIndex,
    turn.requestId,
    turn.provider,
    turn.api,
    turn.model,
    turn.responseModel,
    turn.statusCode,
    turn.isStreaming,
    turn.isComplete,
    turn.stopReason,
    u.inputTokens,
    u.outputTokens,
    u.cacheReadTokens,
    u.cacheCreationTokens,
    u.status,
    turn.costUsd,
    turn.latencyMs,
    turn.ttftMs,
    turn.requestLeafHash,
    turn.responseHash,
    turn.providerResponseId,
    turn.startedAt,
  ]
}

/** The same rows as the ingest phase, written with plain multi-row INSERTs and no session logic. */
async function rawInsert(db: SqlSession, turns: Turn[], concurrency: number): Promise<void> {
  const sessionIds = new Map<string, string>()
  const sessionRows: unknown[] = []
  for (const turn of turns) {
    const key = turn.envelope.harnessSessionId
    if (sessionIds.has(key)) continue
    const id = uuidv7()
    sessionIds.set(key, id)
    const e = turn.envelope
    sessionRows.push(
      id,
      e.orgId,
      e.authSubject,
      e.harnessId,
      key,
      e.name,
      e.cwd,
      JSON.stringify(e.harnessMetadata),
    )
    sessionRows.push(turn.startedAt, turn.startedAt)
  }
  await db.query(
    `INSERT INTO sessions (id, org_id, auth_subject, harness_id, harness_session_id, name, cwd, harness_metadata,
                           started_at, last_seen_at)
     VALUES ${placeholders(sessionIds.size, ['', '', '', '', '', '', '', '::jsonb', '', ''])}`,
    sessionRows,
  )
  const nextIndex = new Map<string, number>()
  const batches: { turn: Turn; index: number }[][] = []
  turns.forEach((turn, i) => {
    const key = turn.envelope.harnessSessionId
    const index = nextIndex.get(key) ?? 0
    nextIndex.set(key, index + 1)
    const batch = Math.floor(i / RAW_BATCH_TURNS)
    batches[batch] ??= []
    batches[batch].push({ turn, index })
  })
  await inParallel(batches, concurrency, async (batch) => {
    const nodes = new Map<string, { node: ChainNode; sessionId: string }>()
    for (const { turn } of batch) {
      const sessionId = sessionIds.get(turn.envelope.harnessSessionId)!
      for (const n of turn.nodes) if (!nodes.has(n.hash)) nodes.set(n.hash, { node: n, sessionId })
    }
    const sorted = [...nodes.values()].sort((a, b) => (a.node.hash < b.node.hash ? -1 : 1))
    await db.query(
      `INSERT INTO nodes (org_id, hash, parent_hash, role, content, session_id)
       VALUES ${placeholders(sorted.length, ['', '', '', '', '::jsonb', ''])} ON CONFLICT DO NOTHING`,
      sorted.flatMap(({ node: n, sessionId }) => [
        batch[0]!.turn.envelope.orgId,
        n.hash,
        n.parentHash,
        n.role,
        JSON.stringify(n.content),
        sessionId,
      ]),
    )
    await db.query(
      `INSERT INTO turns (${TURN_COLUMNS.join(', ')}) VALUES ${placeholders(
        batch.length,
        TURN_COLUMNS.map(() => ''),
      )}`,
      batch.flatMap(({ turn, index }) =>
        turnValues(turn, sessionIds.get(turn.envelope.harnessSessionId)!, index),
      ),
    )
  })
}

async function rowsOf(store: Store, orgId: string): Promise<number> {
  const { rows } = await store.driver.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM sessions WHERE org_id = $1) + (SELECT count(*) FROM nodes WHERE org_id = $1)
          + (SELECT count(*) FROM turns WHERE org_id = $1) AS n`,
    [orgId],
  )
  return Number(rows[0]!.n)
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e9
}

export async function benchIngest(opts: BenchIngestOptions): Promise<BenchIngestResult> {
  const turnCount = opts.turns ?? 2000
  const concurrency = opts.concurrency ?? 8
  const batch = Math.max(1, opts.batch ?? 16)
  const store = await openStore({ databaseUrl: opts.url, dataDir: 'unused', poolSize: concurrency + 2 })
  try {
    // Warm the pool, the plan caches and the indexes on an org of its own.
    await commitAll(store, workload(randomUUID(), 100), concurrency, batch)
    const ingestOrg = randomUUID()
    const ingestTurns = workload(ingestOrg, turnCount)
    const ingestSeconds = await timed(() => commitAll(store, ingestTurns, concurrency, batch))
    const rows = await rowsOf(store, ingestOrg)

    const rawOrg = randomUUID()
    const rawSeconds = await timed(() => rawInsert(store.driver, workload(rawOrg, turnCount), concurrency))
    const rawRows = await rowsOf(store, rawOrg)
    if (rawRows !== rows)
      throw new Error(`raw phase wrote ${rawRows} rows, ingest ${rows}: not the same rows`)

    const rawRowsPerSec = rows / rawSeconds
    return {
      turnsPerSec: turnCount / ingestSeconds,
      ingestRowsPerSec: rows / ingestSeconds,
      rawRowsPerSec,
      ratio: rows / ingestSeconds / rawRowsPerSec,
    }
  } finally {
    await store.close()
  }
}

async function main(): Promise<void> {
  const url = process.argv[2] ?? process.env.DATABASE_URL
  // The embedded server comes from the test helper, so a bare checkout can run the bench.
  const server = url ? null : await (await import('../test/helpers/postgres.js')).startTestPostgres()
  try {
    const turns = Number(process.env.BENCH_TURNS ?? 2000)
    const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8)
    const batch = Number(process.env.BENCH_BATCH ?? 16)
    const result = await benchIngest({ url: url ?? server!.url, turns, concurrency, batch })
    console.log(JSON.stringify({ turns, concurrency, batch, ...result }))
    console.log(
      `store ingest, ${batch} turns per transaction: ${result.turnsPerSec.toFixed(0)} turns/s; raw multi-row INSERT: ` +
        `${result.rawRowsPerSec.toFixed(0)} rows/s; ingest/raw throughput ratio ${result.ratio.toFixed(2)}`,
    )
  } finally {
    await server?.stop()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
