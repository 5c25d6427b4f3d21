/** Builders for small self-written wire fixtures used by the provider tests. */

import type { Api, ParsedResponse } from '../../src/providers/index.js'
import { parseResponse } from '../../src/providers/index.js'

/** An SSE body: each entry is [event name or undefined, JSON payload or raw string]. */
export function sseBody(events: Array<[string | undefined, unknown]>): Buffer {
  const text = events
    .map(
      ([event, data]) =>
        `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
    )
    .join('')
  return Buffer.from(text, 'utf8')
}

export function ndjsonBody(lines: unknown[]): Buffer {
  return Buffer.from(lines.map((l) => `${JSON.stringify(l)}\n`).join(''), 'utf8')
}

export function jsonBody(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8')
}

export function respond(api: Api, body: Buffer, contentType: string, status = 200): ParsedResponse {
  return parseResponse({ api, status, contentType, body, request: null })
}

/** The body cut short by `bytes`, as when a capture stops mid-stream. */
export function truncate(body: Buffer, bytes: number): Buffer {
  return body.subarray(0, body.length - bytes)
}
