/**
 * Child process for the concurrency tests: commits `count` turns through its own Store (own pool).
 * Mode `single`: one turn per transaction to ONE shared session, re-committing every 25th turn.
 * Mode `batch`: batches of 10 over three shared sessions, each batch repeating one turn of the batch
 * before it and one of its own, so duplicates meet committed and in-batch originals.
 * Usage: concurrent-writer.ts <databaseUrl> <orgId> <workerId> <count> [single|batch]
 */

import type { Turn } from '../../src/session/turn.js'
import { openPgDriver } from '../../src/store/pg-driver.js'
import { createStore } from '../../src/store/store.js'
import { chain, makeTurn } from './turn-factory.js'

const [url, orgId, workerId, countArg, mode = 'single'] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string?,
]
const BATCH = 10
const BATCH_SESSIONS = ['shared-a', 'shared-b', 'shared-c']

const store = createStore(openPgDriver({ url, poolSize: 2 }))
let inserted = 0
let duplicates = 0

function turn(i: number, harnessSessionId: string): Turn {
  return makeTurn({
    requestId: `w${workerId}-t${i}`,
    envelope: { orgId, harnessSessionId },
    startedAt: new Date(Date.UTC(2026, 0, 1, 10, 0, 0, i)),
    nodes: chain(['the shared system prompt', `worker ${workerId} question ${i}`]),
    usage: {
      inputTokens: 3,
      outputTokens: 2,
      cacheReadTokens: 1,
      cacheCreationTokens: null,
      reasoningTokens: null,
      status: 'reported',
    },
    costUsd: 0.001,
    statusCode: i % 10 === 0 ? 529 : 200,
  })
}

const count = Number(countArg)
if (mode === 'batch') {
  // Each worker walks the sessions from a different start, so concurrent batches overlap in every order.
  const turns = Array.from({ length: count }, (_, i) =>
    turn(i, BATCH_SESSIONS[(i + Number(workerId)) % BATCH_SESSIONS.length]!),
  )
  for (let start = 0; start < count; start += BATCH) {
    const own = turns.slice(start, start + BATCH)
    const repeats = [own[0]!, ...(start > 0 ? [turns[start - 1]!] : [])]
    const results = await store.ingestBatch([...own, ...repeats].map((t) => ({ turn: t })))
    inserted += results.filter((r) => r.inserted).length
    duplicates += results.filter((r) => !r.inserted).length
  }
} else {
  for (let i = 0; i < count; i++) {
    const t = turn(i, 'shared-session')
    if ((await store.ingest(t)).inserted) inserted++
    if (i % 25 === 0 && !(await store.ingest(t)).inserted) duplicates++
  }
}
await store.close()
console.log(JSON.stringify({ inserted, duplicates }))
