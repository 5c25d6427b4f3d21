/**
 * The shape every API parser implements, and the result types of the provider layer. One folder per
 * provider (its parsers, content mapping and usage); src/providers/registry.ts lists them. Parsers are pure: bytes or JSON in, values out.
 */
import type { Api, ParsedRequest, ParsedResponse, Provider } from './types.js'

export type RequestParseResult = { ok: true; value: ParsedRequest } | { ok: false; reason: string }

/** What a stream reducer hands back: the response and whether the API's terminal event arrived. */
export interface ReducedStream {
  response: Omit<ParsedResponse, 'complete'>
  terminal: boolean
}

/**
 * Folds one streamed response, record by record. `value` is the record's parsed JSON; the SSE
 * end sentinel `data: [DONE]` arrives as the string '[DONE]'. `event` is the SSE event name.
 */
export interface StreamReducer {
  push(event: string | undefined, value: unknown): void
  finish(): ReducedStream
}

export interface ApiParser<A extends Api = Api> {
  readonly api: A
  readonly provider: Provider
  /** Whether a path (query string and trailing slash removed) is this API's turn endpoint. */
  matches(path: string): boolean
  /** Whether the path is one of this API's side endpoints that are not turns (count_tokens, ...). */
  isSideEndpoint(path: string): boolean
  parseRequest(body: unknown, path: string): RequestParseResult
  /** A reducer for one response; a non-streamed JSON body is pushed to it as a single record. */
  createReducer(mode: 'json' | 'stream'): StreamReducer
  /**
   * How the response body is framed: 'ndjson' for an API that always answers in JSON lines (one
   * line when not streamed); 'detect' to judge each body by its content type and first byte.
   */
  readonly framing: 'ndjson' | 'detect'
}
