/**
 * Per-exchange capture: what one ext_proc stream saw, in a form cheap to append to on the reply path
 * (body chunks are kept by reference, never copied or decoded here). Produces the Exchange.
 */
import { v7 as uuidv7 } from 'uuid'
import type { CapturedBody, CaptureStopReason, Exchange, ExchangeEnding, HeaderMap } from '../exchange.js'
import { redactPath, splitHeaders, structToJson } from './headers.js'
import type { HttpBody, HttpHeaders, HttpTrailers, ProcessingRequest } from './messages.js'

/** Why an exchange is not handed to the consumer. */
export const CAPTURE_DROP_REASONS = [
  'over_budget',
  'protocol_violation',
  'malformed_message',
  'internal_error',
  'gated', // answered locally by the request gate (e.g. a looping session)
] as const
export type CaptureDropReason = (typeof CAPTURE_DROP_REASONS)[number]

export type Direction = 'request' | 'response'

class BodyCapture {
  chunks: Buffer[] = []
  size = 0
  complete = false
  stopped: CaptureStopReason | undefined
  encoding: string | undefined

  append(bytes: Buffer): void {
    if (bytes.length === 0) return
    this.chunks.push(bytes)
    this.size += bytes.length
  }

  release(): void {
    this.chunks = []
  }

  snapshot(): CapturedBody {
    return {
      chunks: this.chunks,
      size: this.size,
      encoding: this.encoding,
      complete: this.complete,
      ...(this.stopped ? { stopped: this.stopped } : {}),
    }
  }
}

interface HeadInfo {
  pseudo: Record<string, string>
  headers: HeaderMap
}

export class ExchangeCapture {
  private readonly bodies = { request: new BodyCapture(), response: new BodyCapture() }
  private requestHead: HeadInfo | undefined
  private responseHead: HeadInfo | undefined
  private trailers: { request?: HeaderMap; response?: HeaderMap } = {}
  private attributes: Record<string, unknown> = {}
  private metadata: Record<string, Record<string, unknown>> = {}
  private readonly startedAt: number
  private firstResponseAt: number | undefined
  private dropReason: CaptureDropReason | undefined
  observability = false
  /** The direction reached its end (end_of_stream on headers or body, or trailers). */
  readonly ended = { request: false, response: false }

  constructor(
    private readonly budgetBytes: number,
    private readonly now: () => number,
    /** Told once, with the first reason, when the exchange stops being captured. */
    private readonly onDrop: (reason: CaptureDropReason) => void,
  ) {
    this.startedAt = now()
  }

  get dropped(): CaptureDropReason | undefined {
    return this.dropReason
  }

  get responseStarted(): boolean {
    return this.responseHead !== undefined
  }

  get requestHeaders(): HeaderMap | undefined {
    return this.requestHead?.headers
  }

  /** Stops capturing this exchange; replies to Envoy go on unchanged. The first reason wins. */
  drop(reason: CaptureDropReason): void {
    if (this.dropReason) return
    this.dropReason = reason
    this.bodies.request.release()
    this.bodies.response.release()
    this.onDrop(reason)
  }

  /** Envoy metadata received so far (the request gate reads a verified org from it). */
  get metadataSoFar(): Readonly<Record<string, Record<string, unknown>>> {
    return this.metadata
  }

  /** Records what is not direction-specific: the observability flag, attributes, and Envoy metadata. */
  recordCommon(msg: ProcessingRequest, isHeaders: boolean): void {
    if (msg.observability_mode) this.observability = true
    for (const struct of Object.values(msg.attributes ?? {}))
      Object.assign(this.attributes, structToJson(struct))
    // Envoy repeats metadata_context on every message; reading it at each direction's headers is
    // enough and keeps body chunks from converting the same Struct again on the reply path.
    if (!isHeaders) return
    for (const [ns, struct] of Object.entries(msg.metadata_context?.filter_metadata ?? {})) {
      this.metadata[ns] = { ...this.metadata[ns], ...structToJson(struct) }
    }
  }

  onHeaders(direction: Direction, msg: HttpHeaders): void {
    const head = splitHeaders(msg.headers)
    const already = direction === 'request' ? this.requestHead : this.responseHead
    if (already || this.ended[direction]) this.drop('protocol_violation')
    if (direction === 'request') this.requestHead = head
    else {
      this.responseHead = head
      this.firstResponseAt ??= this.now()
    }
    this.bodies[direction].encoding = head.headers['content-encoding']?.trim().toLowerCase() || undefined
    if (msg.end_of_stream) this.endDirection(direction)
  }

  onBody(direction: Direction, msg: HttpBody): void {
    const head = direction === 'request' ? this.requestHead : this.responseHead
    if (!head || this.ended[direction]) this.drop('protocol_violation')
    const body = this.bodies[direction]
    const bytes = msg.body ?? Buffer.alloc(0)
    if (!this.dropReason) {
      if (body.size + bytes.length > this.budgetBytes) {
        body.stopped = 'over_budget'
        this.drop('over_budget')
      } else body.append(bytes)
    }
    if (msg.end_of_stream) this.endDirection(direction)
  }

  onTrailers(direction: Direction, msg: HttpTrailers): void {
    if (this.ended[direction]) this.drop('protocol_violation')
    this.trailers[direction] = splitHeaders(msg.trailers).headers
    this.endDirection(direction)
  }

  /** The body mode is NONE (from protocol_config): this direction ends with its headers, body unseen. */
  bodyNotSent(direction: Direction): void {
    if (this.ended[direction]) return
    this.ended[direction] = true
    this.bodies[direction].stopped = 'body_not_sent'
  }

  private endDirection(direction: Direction): void {
    this.ended[direction] = true
    this.bodies[direction].complete = true
  }

  /** The finished exchange, or undefined when it was dropped or never saw request headers. */
  toExchange(ending: ExchangeEnding): Exchange | undefined {
    const req = this.requestHead
    if (this.dropReason || !req) return undefined
    const endedAt = this.now()
    for (const dir of ['request', 'response'] as const) {
      const body = this.bodies[dir]
      if (!body.complete && !body.stopped)
        body.stopped = ending === 'complete' ? 'no_end_of_stream' : 'stream_reset'
    }
    const res = this.responseHead
    const status = Number.parseInt(res?.pseudo[':status'] ?? '', 10)
    return {
      requestId: req.headers['x-request-id'] || uuidv7(),
      request: {
        method: req.pseudo[':method'] ?? '',
        path: redactPath(req.pseudo[':path'] ?? ''),
        authority: req.pseudo[':authority'] ?? req.headers.host ?? '',
        scheme: req.pseudo[':scheme'] ?? '',
        headers: req.headers,
        body: this.bodies.request.snapshot(),
        ...(this.trailers.request ? { trailers: this.trailers.request } : {}),
      },
      ...(res
        ? {
            response: {
              status: Number.isFinite(status) ? status : 0,
              headers: res.headers,
              body: this.bodies.response.snapshot(),
              ...(this.trailers.response ? { trailers: this.trailers.response } : {}),
            },
          }
        : {}),
      timing: {
        startedAt: this.startedAt,
        ...(this.firstResponseAt !== undefined ? { firstResponseAt: this.firstResponseAt } : {}),
        endedAt,
      },
      ending,
      observability: this.observability,
      attributes: this.attributes,
      metadata: this.metadata,
    }
  }
}
