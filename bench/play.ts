/**
 * One measured run: replays exchanges through a server under benchmark with the emulator (in this
 * process, so load generator and server sit on different cores) and collects the server's stats.
 */
import type * as grpc from '@grpc/grpc-js'
import { createExtProcClient } from '../src/emulator/client.js'
import { type ReplaySummary, replay } from '../src/emulator/replay.js'
import { DEFAULT_FILTER, type FilterConfig, type HttpExchangeSpec } from '../src/emulator/types.js'
import type { ChildStats } from './child-stats.js'
import { type BenchServer, waitQuiet } from './servers.js'

export type BodyMode = 'streamed' | 'buffered'

export const CHUNK_BYTES = 16 * 1024

export function filterFor(mode: BodyMode): FilterConfig {
  const body = mode === 'streamed' ? 'STREAMED' : 'BUFFERED'
  return {
    ...DEFAULT_FILTER,
    requestBodyMode: body,
    responseBodyMode: body,
    chunking: { kind: 'fixed', size: CHUNK_BYTES },
    // Measure slow replies instead of turning them into local replies.
    messageTimeoutMs: 60_000,
    bufferLimitBytes: 64 * 1024 * 1024,
  }
}

export interface PlayResult {
  summary: ReplaySummary
  /** Server stats over the run: peak RSS and the longest event-loop delay in this window. */
  server: ChildStats
  exchangesPerSec: number
  mbPerSec: number
}

const clients = new Map<string, grpc.Client>()

function clientFor(address: string): grpc.Client {
  let client = clients.get(address)
  if (!client) {
    client = createExtProcClient(address)
    clients.set(address, client)
  }
  return client
}

export function closeClients(): void {
  for (const client of clients.values()) client.close()
  clients.clear()
}

export async function play(
  server: BenchServer,
  mode: BodyMode,
  specs: readonly HttpExchangeSpec[],
  options: { concurrency: number; repeat: number },
): Promise<PlayResult> {
  // The previous run's background work (parsing, commits) must not land in this window.
  await waitQuiet(server)
  await server.stats(true)
  const summary = await replay(clientFor(server.address), filterFor(mode), specs, options)
  const stats = await server.stats()
  if (summary.violations > 0 || summary.localReplies > 0)
    throw new Error(
      `${server.name}: ${summary.violations} violations, ${summary.localReplies} local replies: ${summary.violationSamples.join('; ')}`,
    )
  const bytes = specs.reduce((n, s) => n + s.request.body.length + s.response.body.length, 0) * options.repeat
  return {
    summary,
    server: stats,
    exchangesPerSec: summary.exchanges / (summary.durationMs / 1000),
    mbPerSec: bytes / 1048576 / (summary.durationMs / 1000),
  }
}
