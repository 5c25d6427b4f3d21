/** What the Envoy emulator is configured with, what it plays, and what it reports. */
import type { BodySendMode, HeaderSendMode, RequestKind } from '../extproc/messages.js'
import type { Chunking } from './chunking.js'

export interface FilterConfig {
  requestHeaderMode: HeaderSendMode
  responseHeaderMode: HeaderSendMode
  requestBodyMode: BodySendMode
  responseBodyMode: BodySendMode
  requestTrailerMode: HeaderSendMode
  responseTrailerMode: HeaderSendMode
  observabilityMode: boolean
  /** Envoy's per-message timer (default 200 ms); none in FULL_DUPLEX_STREAMED or observability mode. */
  messageTimeoutMs: number
  failureModeAllow: boolean
  allowModeOverride: boolean
  /** How long Envoy keeps the stream open after the HTTP exchange in observability mode (default 5 s). */
  deferredCloseMs: number
  /** The stream buffer limit for BUFFERED and BUFFERED_PARTIAL (per_connection_buffer_limit_bytes). */
  bufferLimitBytes: number
  /** The Envoy version whose rules apply (protocol_config from 1.34). */
  envoyVersion: [number, number]
  /** Attributes sent in the first message of each direction (names as in request_attributes). */
  requestAttributes: string[]
  responseAttributes: string[]
  /** metadata_context.filter_metadata sent on every message. */
  metadata: Record<string, Record<string, unknown>>
  /** dynamic_metadata namespaces accepted from the server (receiving_namespaces.untyped). */
  receivingNamespaces: string[]
  chunking: Chunking
}

export const DEFAULT_FILTER: FilterConfig = {
  requestHeaderMode: 'SEND',
  responseHeaderMode: 'SEND',
  requestBodyMode: 'STREAMED',
  responseBodyMode: 'STREAMED',
  requestTrailerMode: 'SKIP',
  responseTrailerMode: 'SKIP',
  observabilityMode: false,
  messageTimeoutMs: 200,
  failureModeAllow: false,
  allowModeOverride: false,
  deferredCloseMs: 5000,
  bufferLimitBytes: 1024 * 1024,
  envoyVersion: [1, 38],
  requestAttributes: [],
  responseAttributes: [],
  metadata: {},
  receivingNamespaces: [],
  chunking: { kind: 'random', seed: 1 },
}

/** One HTTP exchange to play: what the client sends and what the upstream answers. */
export interface HttpExchangeSpec {
  name?: string
  /** The x-request-id Envoy would set; a fresh UUIDv7 when absent. */
  requestId?: string
  request: {
    method: string
    path: string
    authority: string
    scheme?: string
    /** Regular headers (the emulator adds the pseudo-headers and x-request-id). */
    headers: Array<[string, string]>
    body: Buffer
    trailers?: Array<[string, string]>
  }
  /** The upstream's answer. */
  response: ResponseSpec
  /** Send the response headers before the request body's replies are in (an early upstream answer). */
  earlyResponse?: boolean
}

/** An exchange whose response is fetched from a real upstream for the request as it left Envoy. */
export interface LiveExchangeSpec extends Omit<HttpExchangeSpec, 'response' | 'earlyResponse'> {
  response: (upstreamRequest: ForwardedRequest) => Promise<ResponseSpec>
}

export interface ResponseSpec {
  status: number
  headers: Array<[string, string]>
  body: Buffer
  trailers?: Array<[string, string]>
}

export interface ForwardedRequest {
  headers: Array<[string, string]>
  body: Buffer
  trailers?: Array<[string, string]>
}

export interface ReplyLatency {
  type: RequestKind
  ms: number
}

export interface EmulatedExchange {
  requestId: string
  /** What reached the upstream, after the server's mutations. */
  upstreamRequest: ForwardedRequest
  /** What reached the client; absent when Envoy answered with a local reply. */
  downstreamResponse?: { headers: Array<[string, string]>; body: Buffer; trailers?: Array<[string, string]> }
  localReply?: { status: number; details: string; body: string }
  /** Protocol rules the server broke (spurious, missing or malformed replies, invalid mutations). */
  violations: string[]
  warnings: string[]
  latencies: ReplyLatency[]
  dynamicMetadata: Record<string, unknown>
}

export interface EmulatorStats {
  streams_started: number
  stream_msgs_sent: number
  stream_msgs_received: number
  spurious_msgs_received: number
  streams_closed: number
  streams_failed: number
  failure_mode_allowed: number
  message_timeouts: number
  rejected_header_mutations: number
  override_message_timeout_received: number
  immediate_responses_received: number
  server_half_closed: number
}

export function emptyStats(): EmulatorStats {
  return {
    streams_started: 0,
    stream_msgs_sent: 0,
    stream_msgs_received: 0,
    spurious_msgs_received: 0,
    streams_closed: 0,
    streams_failed: 0,
    failure_mode_allowed: 0,
    message_timeouts: 0,
    rejected_header_mutations: 0,
    override_message_timeout_received: 0,
    immediate_responses_received: 0,
    server_half_closed: 0,
  }
}
