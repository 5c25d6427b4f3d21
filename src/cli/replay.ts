/**
 * `sessiontap replay <case-dir>...`: plays recorded exchanges through a running ext_proc server the way
 * Envoy would, and prints what happened. Exit code 1 when the server broke the protocol.
 */

import { loadOptions, z } from '../config/load.js'
import { loadExchangeCases } from '../emulator/cases.js'
import { createExtProcClient } from '../emulator/client.js'
import { formatSummary, replay } from '../emulator/replay.js'
import { DEFAULT_FILTER, type FilterConfig } from '../emulator/types.js'
import type { BodySendMode, HeaderSendMode } from '../extproc/messages.js'

export const REPLAY_MODES = [
  'streamed',
  'buffered',
  'buffered-partial',
  'full-duplex',
  'none',
  'observability',
] as const
export type ReplayMode = (typeof REPLAY_MODES)[number]

export const REPLAY_OPTIONS = {
  target: {
    env: 'SESSIONTAP_GRPC_ADDRESS',
    flag: '--target',
    help: 'ext_proc server to replay into, host:port',
    schema: z.string().min(1).default('127.0.0.1:50051'),
    defaultText: '127.0.0.1:50051',
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
    help: 'play every case this many times',
    schema: z.coerce.number().int().min(1).default(1),
    defaultText: '1',
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
    help: 'print the summary as JSON',
    schema: z
      .union([z.boolean(), z.enum(['true', 'false'])])
      .transform((v) => v === true || v === 'true')
      .default(false),
    defaultText: 'false',
  },
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

export async function replayCommand(
  flags: ReadonlyMap<string, string>,
  positional: string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
): Promise<number> {
  const options = loadOptions(REPLAY_OPTIONS, flags, env)
  if (positional.length === 0) {
    out('usage: sessiontap replay <case-dir>... [options]; see sessiontap --help')
    return 2
  }
  const cases = loadExchangeCases(positional)
  if (cases.length === 0) {
    out(`no recorded exchanges found in ${positional.join(', ')}`)
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
    const summary = await replay(
      client,
      cfg,
      cases.map((c) => c.spec),
      { concurrency: options.concurrency, repeat: options.repeat },
    )
    out(
      options.json
        ? JSON.stringify(summary, null, 2)
        : `replayed ${cases.length} case(s) in ${options.mode} mode into ${options.target}\n${formatSummary(summary)}`,
    )
    return summary.violations === 0 && summary.localReplies === 0 && summary.stats.streams_failed === 0
      ? 0
      : 1
  } finally {
    client.close()
  }
}
