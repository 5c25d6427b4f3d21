/** Bad input is logged, but at most once per reason per interval, saying how many lines were left out. */
import { describe, expect, it } from 'vitest'
import { createLogger, createRateLimitedLog } from '../../src/log.js'

describe('createRateLimitedLog', () => {
  it('writes the first line of a key, holds the rest for the interval, then counts what it held', () => {
    const lines: Array<Record<string, unknown>> = []
    let now = 0
    const log = createRateLimitedLog(
      createLogger('info', (line) => lines.push(JSON.parse(line))),
      { intervalMs: 1000, now: () => now },
    )
    log('warn', 'request_parse', 'exchange dropped', { reason: 'request_parse' })
    now = 500
    log('warn', 'request_parse', 'exchange dropped', { reason: 'request_parse' })
    log('warn', 'request_parse', 'exchange dropped', { reason: 'request_parse' })
    log('info', 'over_budget', 'exchange not recorded', { reason: 'over_budget' })
    now = 1500
    log('warn', 'request_parse', 'exchange dropped', { reason: 'request_parse' })
    expect(
      lines.map(({ level, reason, suppressedSinceLast }) => ({ level, reason, suppressedSinceLast })),
    ).toEqual([
      { level: 'warn', reason: 'request_parse', suppressedSinceLast: undefined },
      { level: 'info', reason: 'over_budget', suppressedSinceLast: undefined },
      { level: 'warn', reason: 'request_parse', suppressedSinceLast: 2 },
    ])
  })
})
