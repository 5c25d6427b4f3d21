/** Structured JSON logs, one line per event on stderr. Small on purpose: a level filter and fields. */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const emit = (at: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[at] < RANK[level]) return
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: at, msg, ...fields }
    write(JSON.stringify(entry, errorReplacer) + '\n')
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error)
    return { name: value.name, message: value.message, code: (value as { code?: unknown }).code }
  return value
}

export const silentLogger: Logger = createLogger('silent')

export type RateLimitedLog = (
  level: Exclude<LogLevel, 'silent'>,
  key: string,
  msg: string,
  fields?: Record<string, unknown>,
) => void

/**
 * Bad input must be visible without flooding the log: at most one line per key (a reason) per
 * interval; the next line says how many were left out since the last one (the metrics count them all).
 */
export function createRateLimitedLog(
  logger: Logger,
  { intervalMs = 10_000, now = Date.now }: { intervalMs?: number; now?: () => number } = {},
): RateLimitedLog {
  const last = new Map<string, { at: number; suppressed: number }>()
  return (level, key, msg, fields) => {
    const at = now()
    const seen = last.get(key)
    if (seen && at - seen.at < intervalMs) {
      seen.suppressed++
      return
    }
    logger[level](msg, {
      ...fields,
      ...(seen && seen.suppressed > 0 ? { suppressedSinceLast: seen.suppressed } : {}),
    })
    last.set(key, { at, suppressed: 0 })
  }
}
