/**
 * Picks the recorded case that answers a request: the one named by the x-mock-case header, else the
 * one whose request.json has the same SHA-256 as the body, else a default case for the path.
 */
import type { RecordedCase } from './cases.js'
import { sha256Hex, streamFlag, stripQuery } from './cases.js'

export const CASE_HEADER = 'x-mock-case'

export interface IncomingRequest {
  readonly method: string
  readonly path: string
  /** The x-mock-case header, if sent. */
  readonly caseName: string | undefined
  readonly body: Buffer
}

export type Selection =
  | { readonly case: RecordedCase; readonly by: 'header' | 'body-sha256' | 'path' }
  | { readonly case: undefined; readonly reason: string }

export function selectCase(cases: readonly RecordedCase[], request: IncomingRequest): Selection {
  if (request.caseName !== undefined) {
    const named = cases.find((candidate) => candidate.name === request.caseName)
    // An explicit choice that does not exist is the caller's mistake: never fall back silently.
    return named
      ? { case: named, by: 'header' }
      : { case: undefined, reason: `no case named "${request.caseName}"` }
  }
  const method = request.method.toUpperCase()
  const pathKey = routeKey(stripQuery(request.path))
  const samePath = cases.filter(
    (candidate) => candidate.method === method && routeKey(candidate.path) === pathKey,
  )

  const digest = sha256Hex(request.body)
  const replayed =
    samePath.find((candidate) => candidate.requestSha256 === digest) ??
    cases.find((candidate) => candidate.requestSha256 === digest)
  if (replayed) return { case: replayed, by: 'body-sha256' }

  // A new request on a known path: prefer a case that streams (or not) as the request asks.
  const wantsStream = streamFlag(request.body)
  const byPath = samePath.find((candidate) => candidate.requestStream === wantsStream) ?? samePath[0]
  if (byPath) return { case: byPath, by: 'path' }
  return { case: undefined, reason: `no recorded case for ${method} ${stripQuery(request.path)}` }
}

/** Gemini puts the model in the path (`/v1beta/models/<model>:generateContent`): match any model. */
function routeKey(requestPath: string): string {
  return requestPath.replace(/\/models\/[^/:]+:/, '/models/*:')
}
