/**
 * One ext_proc Process stream = one HTTP exchange. Replies are written synchronously, in arrival
 * order, before anything else happens; the finished exchange goes to the consumer on a later tick.
 * Any failure here stops capturing the exchange but never stops or delays the replies (fail-open).
 */
import { performance } from 'node:perf_hooks'
import type * as grpc from '@grpc/grpc-js'
import type { ExchangeConsumer, ExchangeEnding, LocalReply, RequestGate } from '../exchange.js'
import type { Logger, RateLimitedLog } from '../log.js'
import { type Direction, ExchangeCapture } from './capture.js'
import type { BodySendMode, ProcessingRequest, ProcessingResponse, RequestKind } from './messages.js'
import { REQUEST_KINDS } from './messages.js'
import type { ExtProcMetrics } from './metrics.js'
import { envelopeHeadersToStrip, immediateReply, replyTo } from './replies.js'

export interface StreamOptions {
  /** Capture budget per direction, in raw body bytes. */
  captureMaxBytes: number
  /** Remove these-prefixed request headers before the request goes upstream (synchronous modes only). */
  stripHeaderPrefix: string | undefined
  /** Asked at request headers in synchronous modes (see RequestGate). */
  requestGate?: RequestGate
}

export interface StreamDeps {
  consumer: ExchangeConsumer
  metrics: ExtProcMetrics
  logger: Logger
  /** Rejected or malformed input, logged at most once per reason per interval. */
  badInput: RateLimitedLog
  options: StreamOptions
  /** Closes the connection of a peer (call.getPeer()) that sent bytes no Envoy sends. */
  closePeer: (peer: string) => void
}

/**
 * What a message that is not protobuf at all decodes to (see server.ts): no Envoy sends one, so its
 * connection is closed. A well-formed message of a kind we do not know is only dropped: a newer Envoy
 * may send it, and closing would cut every exchange multiplexed on that connection.
 */
export const UNDECODABLE: ProcessingRequest = Object.freeze({}) as ProcessingRequest

type Call = grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>

const KINDS = new Set<string>(REQUEST_KINDS)

function directionOf(kind: RequestKind): Direction {
  return kind.startsWith('request') ? 'request' : 'response'
}

/** The labelled children of the per-message metrics, resolved once: the reply path skips label hashing. */
const perKind = new WeakMap<ExtProcMetrics, ReturnType<typeof resolveKindMetrics>>()

function resolveKindMetrics(metrics: ExtProcMetrics) {
  const children = {} as Record<
    RequestKind,
    { messages: { inc(): void }; reply: { observe(v: number): void } }
  >
  for (const kind of REQUEST_KINDS) {
    children[kind] = { messages: metrics.messages.labels(kind), reply: metrics.replySeconds.labels(kind) }
  }
  const bytes = {
    request: metrics.bodyBytes.labels('request'),
    response: metrics.bodyBytes.labels('response'),
  }
  return { children, bytes }
}

function kindMetrics(metrics: ExtProcMetrics) {
  let resolved = perKind.get(metrics)
  if (!resolved) {
    resolved = resolveKindMetrics(metrics)
    perKind.set(metrics, resolved)
  }
  return resolved
}

/** Epoch milliseconds with sub-millisecond precision. */
const epochNow = () => performance.timeOrigin + performance.now()

export function handleProcessStream(call: Call, deps: StreamDeps, onClosed: () => void): void {
  const { metrics, logger, options } = deps
  const capture = new ExchangeCapture(options.captureMaxBytes, epochNow, (reason) => {
    metrics.exchangesDropped.labels(reason).inc()
    const fields = { reason, requestId: capture.requestHeaders?.['x-request-id'] }
    // A local reply is the gate's own decision; anything else is bad input or too much of it.
    if (reason === 'gated') logger.debug('exchange capture stopped', fields)
    else
      deps.badInput(
        reason === 'over_budget' ? 'info' : 'warn',
        `capture:${reason}`,
        'exchange not recorded',
        fields,
      )
  })
  const bodyModes: Partial<Record<Direction, BodySendMode>> = {}
  let finished = false
  let callEnded = false
  let writesBlocked = false

  const { children, bytes: bodyBytes } = kindMetrics(metrics)
  metrics.streams.inc()
  metrics.streamsActive.inc()

  const fail = (err: unknown) => {
    if (!capture.dropped) logger.warn('internal error while capturing an exchange', { err })
    capture.drop('internal_error')
  }

  const finish = (ending: ExchangeEnding) => {
    if (finished) return
    finished = true
    metrics.streamsActive.dec()
    metrics.streamEndings.labels(ending).inc()
    onClosed()
    let exchange: ReturnType<ExchangeCapture['toExchange']>
    try {
      exchange = capture.toExchange(ending)
    } catch (err) {
      fail(err)
      return
    }
    if (!exchange) return
    metrics.exchangesCaptured.inc()
    // Off the reply path: the last reply has already been handed to grpc-js.
    setImmediate(() => {
      try {
        deps.consumer.consume(exchange)
      } catch (err) {
        logger.error('exchange consumer threw', { err })
      }
    })
  }

  const gate = (): LocalReply | undefined => {
    const headers = capture.requestHeaders
    if (!options.requestGate || !headers) return undefined
    try {
      return options.requestGate(headers, capture.metadataSoFar)
    } catch (err) {
      logger.warn('request gate failed; letting the request through', { err })
      return undefined
    }
  }

  const endingNow = (): ExchangeEnding =>
    capture.ended.response ? 'complete' : capture.responseStarted ? 'reset' : 'no_response'

  /** Ends the gRPC call with OK, once; nothing is written after it. */
  const endCall = () => {
    if (callEnded || call.cancelled) return
    callEnded = true
    call.end()
  }

  const write = (reply: ProcessingResponse) => {
    if (call.cancelled || callEnded) return
    if (!call.write(reply) && !writesBlocked) {
      // Respect grpc-js back-pressure (FULL_DUPLEX echoes can be large): stop reading until drained.
      writesBlocked = true
      call.pause()
      call.once('drain', () => {
        writesBlocked = false
        call.resume()
      })
    }
  }

  call.on('data', (msg: ProcessingRequest) => {
    // After we ended the call nothing can be answered; Envoy has nothing more to send by then anyway.
    if (callEnded) return
    const t0 = performance.now()
    if (msg === UNDECODABLE) {
      metrics.messages.labels('undecodable').inc()
      capture.drop('malformed_message')
      const peer = call.getPeer()
      deps.badInput(
        'warn',
        'undecodable_message',
        'closing an ext_proc connection that sent a message that is not protobuf',
        { peer },
      )
      deps.closePeer(peer)
      return
    }
    const kind = msg.request
    if (!kind || !KINDS.has(kind)) {
      // Nothing to answer: any reply would be spurious. The exchange can no longer be trusted.
      metrics.messages.labels('malformed').inc()
      capture.drop('malformed_message')
      return
    }
    const kindMetric = children[kind]
    kindMetric.messages.inc()
    const direction = directionOf(kind)
    let removeHeaders: string[] = []
    try {
      capture.recordCommon(msg, kind === 'request_headers' || kind === 'response_headers')
      if (msg.protocol_config) {
        bodyModes.request = msg.protocol_config.request_body_mode
        bodyModes.response = msg.protocol_config.response_body_mode
      }
      switch (kind) {
        case 'request_headers':
        case 'response_headers': {
          capture.onHeaders(direction, msg[kind] ?? {})
          if (bodyModes[direction] === 'NONE') capture.bodyNotSent(direction)
          if (kind === 'request_headers' && options.stripHeaderPrefix && !msg.observability_mode) {
            removeHeaders = envelopeHeadersToStrip(
              Object.keys(capture.requestHeaders ?? {}),
              options.stripHeaderPrefix,
            )
          }
          break
        }
        case 'request_body':
        case 'response_body': {
          const bytes = msg[kind]?.body?.length ?? 0
          bodyBytes[direction].inc(bytes)
          capture.onBody(direction, msg[kind] ?? {})
          break
        }
        case 'request_trailers':
        case 'response_trailers':
          capture.onTrailers(direction, msg[kind] ?? {})
          break
      }
    } catch (err) {
      fail(err)
    }

    if (!msg.observability_mode) {
      const gated = kind === 'request_headers' ? gate() : undefined
      if (gated) {
        // Envoy answers the client itself and closes the stream; nothing of this exchange is recorded.
        write(immediateReply(gated))
        kindMetric.reply.observe((performance.now() - t0) / 1000)
        capture.drop('gated')
        finish('no_response')
        endCall()
        return
      }
      const body = kind === 'request_body' || kind === 'response_body' ? msg[kind] : undefined
      write(replyTo(kind, bodyModes[direction], body, removeHeaders))
      kindMetric.reply.observe((performance.now() - t0) / 1000)
    }

    // The exchange is over once the response reached its end (the request side cannot continue past
    // that). Ending the call ourselves, with OK, keeps Envoy's reset from hitting an open stream:
    // Node's HTTP/2 rapid-reset guard (since 20.9, CVE-2023-44487) closes the whole connection once resets
    // come faster than its budget, after about a thousand exchanges behind a busy Envoy (grpc/grpc-node#2625).
    if (capture.ended.response && (capture.ended.request || capture.responseStarted)) {
      finish('complete')
      endCall()
    }
  })

  call.on('end', () => {
    // Envoy half-closed: nothing more will come. Finish the call with OK.
    finish(endingNow())
    endCall()
  })
  call.on('cancelled', () => finish(endingNow()))
  call.on('error', (err) => {
    deps.badInput('info', 'stream_error', 'ext_proc stream error', { err })
    finish(endingNow())
  })
}
