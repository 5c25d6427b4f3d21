/**
 * Child process for the concurrency test: commits `count` turns to ONE shared session through its
 * own Store (own pool), re-committing every 25th turn to mix in idempotent retries.
 * Usage: concurrent-writer.ts <databaseUrl> <orgId> <workerId> <count>
 */

import { openPgDriver } from '../../src/store/pg-driver.js'
import { createStore } from '../../src/store/store.js'
import { chain, makeTurn } from './turn-factory.js'

const [url, orgId, workerId, countArg] = process.argv.slice(2) as [string, string, string, string]
const store = createStore(openPgDriver({ url, poolSize: 2 }))
let inserted = 0
let duplicates = 0
for (let i = 0; i < Number(countArg); i++) {
  const turn = makeTurn({
    requestId: `w${workerId}-t${i}`,
    envelope: { orgId, harnessSessionId: 'shared-session' },
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
  if ((await store.ingest(turn)).inserted) inserted++
  if (i % 25 === 0 && !(await store.ingest(turn)).inserted) duplicates++
}
await store.close()
console.log(JSON.stringify({ inserted, duplicates }))
