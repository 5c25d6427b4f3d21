/**
 * The joint between Envoy's protocol and everything above it: one finished HTTP exchange as the
 * ext_proc server captured it, and the local reply a request gate may send instead of forwarding.
 * Plain data only, importing nothing: every layer may import it, and extproc/ depends on nothing else
 * of ours but the proto. Nothing here knows about LLM APIs; bodies are kept as the raw chunks Envoy
 * sent (still content-encoded) so the reply path never copies or decodes them.
 */

/** Lowercase header name → value. Repeated headers are joined with ", " (cookies never get here). */
export type HeaderMap = Readonly<Record<string, string>>

/** Why a direction's body stopped being captured before its end. */
export const CAPTURE_STOP_REASONS = [
  'over_budget',
  'stream_reset',
  'no_end_of_stream',
  'body_not_sent', // the body mode is NONE: Envoy never sends the body
] as const
export type CaptureStopReason = (typeof CAPTURE_STOP_REASONS)[number]

export interface CapturedBody {
  /** Raw body chunks in arrival order, exactly as Envoy sent them (content-encoded). */
  readonly chunks: readonly Buffer[]
  /** Total raw bytes in `chunks`. */
  readonly size: number
  /** The `content-encoding` header of this direction, lowercased, or undefined for identity. */
  readonly encoding: string | undefined
  /** True when the body's end (end_of_stream or trailers) was seen. */
  readonly complete: boolean
  /** Set when capture stopped early; the chunks hold what arrived before. */
  readonly stopped?: CaptureStopReason
}

export interface CapturedRequest {
  readonly method: string
  /** `:path` with credential query parameters (`key=`) removed. */
  readonly path: string
  readonly authority: string
  readonly scheme: string
  readonly headers: HeaderMap
  readonly body: CapturedBody
  readonly trailers?: HeaderMap
}

export interface CapturedResponse {
  readonly status: number
  readonly headers: HeaderMap
  readonly body: CapturedBody
  readonly trailers?: HeaderMap
}

/** How the ext_proc stream ended, from the server's point of view. */
export const EXCHANGE_ENDINGS = [
  'complete', // the response reached end of stream (or trailers)
  'no_response', // the stream closed before any response headers (local reply, upstream failure)
  'reset', // Envoy cancelled the stream in the middle of a body (client disconnect, timeout)
] as const
export type ExchangeEnding = (typeof EXCHANGE_ENDINGS)[number]

export interface Exchange {
  /** Envoy's `x-request-id`, or a UUIDv7 minted by sessiontap when the header is absent. */
  readonly requestId: string
  readonly request: CapturedRequest
  readonly response?: CapturedResponse
  readonly timing: {
    /** Epoch milliseconds (fractional) when the first message of the stream arrived. */
    readonly startedAt: number
    /** When the response headers arrived (the first response byte as Envoy sees it). */
    readonly firstResponseAt?: number
    /** When the stream ended. */
    readonly endedAt: number
  }
  readonly ending: ExchangeEnding
  /** True when Envoy sent the messages in observability mode. */
  readonly observability: boolean
  /** `attributes["envoy.filters.http.ext_proc"]` of both directions, as plain JSON values. */
  readonly attributes: Readonly<Record<string, unknown>>
  /** `metadata_context.filter_metadata` as plain JSON: namespace → object. */
  readonly metadata: Readonly<Record<string, Record<string, unknown>>>
}

/**
 * Receives every finished exchange. Called off the reply path (after the last reply was written);
 * must return quickly and never throw: heavy work is queued by the consumer itself.
 */
export interface ExchangeConsumer {
  consume(exchange: Exchange): void
}

/** A reply sent to the client instead of letting the request through (e.g. a session flagged as looping). */
export interface LocalReply {
  status: number
  body: string
  /** Becomes Envoy's %RESPONSE_CODE_DETAILS%. */
  details: string
}

/**
 * Asked at request headers, synchronous modes only, with the Envoy metadata received so far (a verified
 * org may live there): a local reply to send instead of forwarding. Must be a cheap in-memory lookup: it
 * is on the reply path.
 */
export type RequestGate = (headers: HeaderMap, metadata: Exchange['metadata']) => LocalReply | undefined
