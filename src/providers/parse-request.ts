/** Request bodies: bytes → JSON (decoded once) → the API's normalized ParsedRequest. */
import type { RequestParseResult } from './provider.js'
import { parserFor } from './registry.js'
import type { Api } from './types.js'

/** `body` must already be content-decoded; `path` is the request path (Gemini takes the model from it). */
export function parseRequest(api: Api, body: Buffer, path: string): RequestParseResult {
  if (body.length === 0) return { ok: false, reason: 'empty request body' }
  let json: unknown
  try {
    json = JSON.parse(body.toString('utf8'))
  } catch (err) {
    return { ok: false, reason: `malformed JSON: ${(err as Error).message}` }
  }
  return parserFor(api).parseRequest(json, path)
}
