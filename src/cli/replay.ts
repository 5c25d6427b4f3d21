/**
 * `sessiontap replay <case-dir>...`: plays recorded exchanges through a running ext_proc server the way
 * Envoy would, and prints what happened. Each exchange carries a request id derived from its case, so
 * a second run records nothing new (the sidecar stores a request id once); `--fresh-ids` for load.
 * Exit code 1 when no sidecar answers or the server broke the protocol.
 */
import { createHash } from 'node:crypto'
import type * as grpc from '@grpc/grpc-js'
import { z } from 'zod'
import { loadOptions } from '../config/load.js'
import { SERVE_OPTIONS } from '../config/options.js'
import { loadExchangeCases } from '../emulator/cases.js'
import { createExtProcClient } from '../emulator/client.js'
import { formatSummary, replay } from '../emulator/replay.js'
import { DEFAULT_FILTER, type FilterConfig, type HttpExchangeSpec } from '../emulator/types.js'
import type { BodySendMode, HeaderSendMode } from '../extproc/messages.js'
import type { CommandSpec } from './args.js'
import { createProgress, type ProgressStream } from './progress.js'
import { type Recorded, readRecorderCounters, waitForRecorded } from './recorded.js'

export const REPLAY_MODES = [
  'streamed',
  'buffered',
  'buffered-partial',
  'full-duplex',
  'none',
  'observability',
] as const
export type ReplayMode = (typeof REPLAY_MODES)[number]

const flag = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true')
  .default(false)

export const REPLAY_OPTIONS = {
  target: {
    env: 'SESSIONTAP_GRPC_ADDRESS',
    flag: '--target',
    help: 'ext_proc server to replay into, host:port',
    schema: z.string().min(1).default('127.0.0.1:50051'),
    defaultText: '127.0.0.1:50051',
  },
  adminAddress: {
    env: 'SESSIONTAP_HTTP_ADDRESS',
    flag: '--admin-address',
    help: "the sidecar's admin HTTP address, whose /metrics say afterwards what was recorded",
    schema: z.string().min(1).default(SERVE_OPTIONS.httpAddress.defaultText),
    defaultText: SERVE_OPTIONS.httpAddress.defaultText,
  },
  mode: {
    env: 'SESSIONTAP_REPLAY_MODE',
    flag: '--mode',
    help: `Envoy body mode to emulate: ${REPLAY_MODES.join(', ')}`,
    schema: z.enum(REPLAY_MODES).default('streamed'),
    defaultText: 'streamed',
  },
  concurrency: {
    env: 'SESSIONTAP_REPLAY_CONCURRENCY',
    flag: '--concurrency',
    help: 'exchanges in flight at once',
    schema: z.coerce.number().int().min(1).default(1),
    defaultText: '1',
  },
  repeat: {
    env: 'SESSIONTAP_REPLAY_REPEAT',
    flag: '--repeat',
    help: 'play every case this many times (each repetition has request ids of its own)',
    schema: z.coerce.number().int().min(1).default(1),
    defaultText: '1',
  },
  freshIds: {
    env: 'SESSIONTAP_REPLAY_FRESH_IDS',
    flag: '--fresh-ids',
    help: 'send new request ids, so every run is recorded again (load tests); default: ids derived from the case',
    schema: flag,
    defaultText: 'false',
  },
  chunkSize: {
    env: 'SESSIONTAP_REPLAY_CHUNK_SIZE',
    flag: '--chunk-size',
    help: 'body chunk size in bytes; 0 = random boundaries (1-byte chunks, cuts inside UTF-8 and \\n\\n)',
    schema: z.coerce.number().int().min(0).default(0),
    defaultText: '0',
  },
  seed: {
    env: 'SESSIONTAP_REPLAY_SEED',
    flag: '--seed',
    help: 'seed of the random chunking',
    schema: z.coerce.number().int().default(1),
    defaultText: '1',
  },
  messageTimeoutMs: {
    env: 'SESSIONTAP_REPLAY_MESSAGE_TIMEOUT_MS',
    flag: '--message-timeout-ms',
    help: "Envoy's message_timeout",
    schema: z.coerce.number().int().min(1).default(200),
    defaultText: '200',
  },
  json: {
    env: 'SESSIONTAP_REPLAY_JSON',
    flag: '--json',
    help: 'print the summary as JSON (progress, on a terminal, goes to standard error)',
    schema: flag,
    defaultText: 'false',
  },
}

export const REPLAY_COMMAND: CommandSpec = {
  path: 'replay',
  summary: 'play recorded exchanges into a running sidecar as Envoy would',
  usage: '<case-dir>... [flags]',
  description: `Play recorded exchanges into a running sidecar as Envoy would, check every reply, and print
reply-latency percentiles and what the sidecar recorded.

A case directory holds request.json, request.headers.json, response.body and response.headers.json,
or holds such directories. Each exchange is sent with a request id derived from its case (name,
request body, repetition): the sidecar stores a request id once, so running the same replay again
records nothing new. --fresh-ids sends new ids every time.`,
  options: REPLAY_OPTIONS,
  positionals: [1, Number.POSITIVE_INFINITY],
  examples: [
    '$ sessiontap replay test/fixtures/cases',
    '$ sessiontap replay ../shared/corpus --concurrency 4 --mode buffered',
    '$ sessiontap replay test/fixtures/cases --repeat 100 --fresh-ids --json > load.json',
  ],
}

/** The filter configuration that each replay mode stands for. */
export function filterForMode(mode: ReplayMode, base: FilterConfig = DEFAULT_FILTER): FilterConfig {
  const body = (m: BodySendMode, trailer: HeaderSendMode = 'SKIP'): FilterConfig => ({
    ...base,
    requestBodyMode: m,
    responseBodyMode: m,
    requestTrailerMode: trailer,
    responseTrailerMode: trailer,
  })
  switch (mode) {
    case 'streamed':
      return body('STREAMED')
    case 'buffered':
      return { ...body('BUFFERED'), bufferLimitBytes: 64 * 1024 * 1024 }
    case 'buffered-partial':
      return body('BUFFERED_PARTIAL')
    case 'full-duplex':
      // Envoy refuses FULL_DUPLEX_STREAMED unless the trailer mode is SEND.
      return body('FULL_DUPLEX_STREAMED', 'SEND')
    case 'none':
      return body('NONE')
    case 'observability':
      return { ...body('STREAMED'), observabilityMode: true }
  }
}

/** A UUID-shaped id from the case's name, request body and repetition: the same on every run. */
export function stableRequestId(spec: HttpExchangeSpec, repetition: number): string {
  const hex = createHash('sha256')
    .update(`sessiontap replay\0${spec.name ?? ''}\0${repetition}\0`)
    .update(spec.request.body)
    .digest('hex')
  // Version 8 (custom) and the RFC 9562 variant, so it reads as a UUID wherever one is expected.
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function waitForServer(client: grpc.Client, ms: number): Promise<boolean> {
  return new Promise((resolve) => client.waitForReady(Date.now() + ms, (err) => resolve(!err)))
}

function recordedText(
  recorded: Recorded | null,
  exchanges: number,
  freshIds: boolean,
  admin: string,
): string {
  if (recorded === null) {
    return freshIds
      ? `${exchanges} exchange(s) sent with fresh request ids (no /metrics at ${admin} to read back what was recorded)`
      : `${exchanges} exchange(s) sent with request ids derived from their cases; the sidecar stores each request id once, so replaying them again records nothing new (no /metrics at ${admin} to confirm it)`
  }
  const again =
    recorded.alreadyRecorded > 0 ? ' (replayed before: same request ids; --fresh-ids records them again)' : ''
  return `recorded: ${recorded.newTurns} new turn(s), ${recorded.alreadyRecorded} already recorded${again}`
}

export interface ReplayOutput {
  out: (s: string) => void
  err: (s: string) => void
  /** Where progress goes; standard error by default (drawn only when it is a terminal). */
  progress?: ProgressStream
}

export async function replayCommand(
  flags: ReadonlyMap<string, string>,
  positional: string[],
  env: NodeJS.ProcessEnv,
  { out, err, progress: progressStream }: ReplayOutput,
): Promise<number> {
  const options = loadOptions(REPLAY_OPTIONS, flags, env)
  const cases = loadExchangeCases(positional)
  if (cases.length === 0) {
    err(`sessiontap replay: no recorded exchanges found in ${positional.join(', ')}`)
    return 2
  }
  const cfg: FilterConfig = {
    ...filterForMode(options.mode),
    messageTimeoutMs: options.messageTimeoutMs,
    chunking:
      options.chunkSize > 0
        ? { kind: 'fixed', size: options.chunkSize }
        : { kind: 'random', seed: options.seed },
  }
  const client = createExtProcClient(options.target)
  try {
    if (!(await waitForServer(client, 3000))) {
      err(
        `sessiontap replay: no sidecar answers at ${options.target}; start one with \`sessiontap serve\` (npm start) or point --target at it`,
      )
      return 1
    }
    const before = await readRecorderCounters(options.adminAddress)
    const total = cases.length * options.repeat
    const progress = createProgress('replay', { unit: 'exchanges', total, stream: progressStream })
    const summary = await replay(
      client,
      cfg,
      cases.map((c) => c.spec),
      {
        concurrency: options.concurrency,
        repeat: options.repeat,
        requestId: options.freshIds ? undefined : stableRequestId,
        onExchange: () => progress.advance(),
      },
    )
    if (before) progress.phase('waiting for the sidecar to commit…')
    const recorded = before ? await waitForRecorded(options.adminAddress, before, summary.exchanges) : null
    progress.done()
    out(
      options.json
        ? JSON.stringify({ ...summary, recorded }, null, 2)
        : [
            `replayed ${cases.length} case(s) in ${options.mode} mode into ${options.target}`,
            formatSummary(summary),
            recordedText(recorded, summary.exchanges, options.freshIds, options.adminAddress),
          ].join('\n'),
    )
    return summary.violations === 0 && summary.localReplies === 0 && summary.stats.streams_failed === 0
      ? 0
      : 1
  } finally {
    client.close()
  }
}
