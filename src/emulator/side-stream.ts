/**
 * One ext_proc gRPC stream as Envoy drives it: opened lazily on the first message, replies matched
 * to the oldest outstanding message of their direction (FIFO), a message timer per direction as Envoy keeps it,
 * and the end Envoy gives every stream (half-close, then cancel). Protocol breaks are recorded.
 */
import { performance } from 'node:perf_hooks'
import * as grpc from '@grpc/grpc-js'
import { jsonToStruct as toStruct } from '../extproc/headers.js'
import type {
  ImmediateResponse,
  ProcessingRequest,
  ProcessingResponse,
  RequestKind,
  StreamedBodyResponse,
} from '../extproc/messages.js'
import { codecs } from './codec.js'
import type { EmulatedExchange, EmulatorStats, FilterConfig } from './types.js'

export type Dir = 'request' | 'response'

/**
 * Envoy ends nearly every ext_proc stream with a half-close and then RST_STREAM CANCEL (a grpc-js server
 * sees 'end', then 'cancelled'), writing both frames in order. A grpc-js client flushes its half-close
 * asynchronously, so the emulator waits a little before the reset; otherwise under load the reset could
 * overtake the half-close, which Envoy never does.
 */
const RESET_DELAY_MS = 50
type Slot = 'headers' | 'body' | 'trailers'

export type Outcome =
  | { kind: 'reply'; reply: ProcessingResponse }
  | { kind: 'immediate'; reply: ImmediateResponse }
  | { kind: 'timeout' }
  | { kind: 'closed'; ok: boolean; detail: string }
  | { kind: 'spurious'; detail: string }

interface Pending {
  slot: Slot
  type: RequestKind
  sentAt: number
  resolve: (o: Outcome) => void
}

/** Collects FULL_DUPLEX_STREAMED body replies until one carries end_of_stream. */
export interface DuplexCollector {
  chunks: Buffer[]
  eosSent: boolean
  done: Promise<Outcome>
}

type Call = grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>

export class SideStream {
  private call: Call | undefined
  private readonly queues: Record<Dir, Pending[]> = { request: [], response: [] }
  private readonly timers: Partial<Record<Dir, NodeJS.Timeout>> = {}
  private readonly duplex: Partial<Record<Dir, DuplexCollector & { resolve: (o: Outcome) => void }>> = {}
  private terminal: Outcome | undefined
  private finishing = false
  private sentAny = false
  private readonly sentInDirection: Record<Dir, boolean> = { request: false, response: false }
  private closedPromise: Promise<void> | undefined

  constructor(
    private readonly client: grpc.Client,
    private readonly cfg: FilterConfig,
    private readonly stats: EmulatorStats,
    private readonly result: EmulatedExchange,
    private readonly attributes: Record<Dir, Record<string, unknown>>,
  ) {}

  /** Set once the stream has ended for good (local reply, closed, timed out, spurious reply). */
  get ended(): Outcome | undefined {
    return this.terminal
  }

  private open(): Call {
    if (this.call) return this.call
    this.stats.streams_started++
    const { encode, decode } = codecs()
    const call = this.client.makeBidiStreamRequest(
      '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
      (m: ProcessingRequest) => encode(m),
      (b: Buffer) => decode(b),
    ) as Call
    this.call = call
    call.on('data', (reply: ProcessingResponse) => this.onReply(reply))
    this.closedPromise = new Promise((resolve) => {
      call.on('status', (status: grpc.StatusObject) => {
        this.stats.streams_closed++
        if (!this.finishing) {
          const ok = status.code === grpc.status.OK
          if (ok) this.stats.server_half_closed++
          else this.stats.streams_failed++
          this.end({ kind: 'closed', ok, detail: `${grpc.status[status.code]}: ${status.details}` })
        }
        resolve()
      })
    })
    call.on('error', () => {
      // Reported through 'status'.
    })
    return call
  }

  /** Sends one message; resolves with its reply when one is expected, else at once. */
  send(type: RequestKind, payload: object, expectReply: boolean): Promise<Outcome> {
    if (this.terminal) return Promise.resolve(this.terminal)
    const call = this.open()
    const dir: Dir = type.startsWith('request') ? 'request' : 'response'
    const msg: ProcessingRequest = { [type]: payload }
    msg.metadata_context = { filter_metadata: structs(this.cfg.metadata) }
    if (this.cfg.observabilityMode) msg.observability_mode = true
    if (!this.sentAny && !this.cfg.observabilityMode && versionAtLeast(this.cfg, 1, 34)) {
      msg.protocol_config = {
        request_body_mode: this.cfg.requestBodyMode,
        response_body_mode: this.cfg.responseBodyMode,
      }
    }
    if (!this.sentInDirection[dir] && Object.keys(this.attributes[dir]).length > 0) {
      msg.attributes = { 'envoy.filters.http.ext_proc': toStruct(this.attributes[dir]) }
    }
    this.sentAny = true
    this.sentInDirection[dir] = true
    this.stats.stream_msgs_sent++
    if (!expectReply) {
      call.write(msg)
      return Promise.resolve({ kind: 'reply', reply: {} })
    }
    return new Promise<Outcome>((resolve) => {
      const pending: Pending = {
        slot: type.slice(type.indexOf('_') + 1) as Slot,
        type,
        sentAt: performance.now(),
        resolve,
      }
      // Envoy's timer restarts with every message sent and stops whenever a reply arrives.
      if (this.cfg.messageTimeoutMs > 0 && !this.isDuplex(dir)) this.startTimer(dir, type)
      this.queues[dir].push(pending)
      call.write(msg)
    })
  }

  private startTimer(dir: Dir, type: RequestKind): void {
    this.stopTimer(dir)
    this.timers[dir] = setTimeout(() => {
      this.stats.message_timeouts++
      this.result.violations.push(`${type}: no reply within message_timeout ${this.cfg.messageTimeoutMs} ms`)
      this.end({ kind: 'timeout' })
    }, this.cfg.messageTimeoutMs)
  }

  private stopTimer(dir: Dir): void {
    clearTimeout(this.timers[dir])
    delete this.timers[dir]
  }

  /** FULL_DUPLEX_STREAMED: body replies are streamed_response messages, not one per chunk. */
  expectDuplexBody(dir: Dir): DuplexCollector {
    let resolve!: (o: Outcome) => void
    const done = new Promise<Outcome>((r) => {
      resolve = r
    })
    const collector = { chunks: [] as Buffer[], eosSent: false, done, resolve }
    this.duplex[dir] = collector
    return collector
  }

  private isDuplex(dir: Dir): boolean {
    return (
      (dir === 'request' ? this.cfg.requestBodyMode : this.cfg.responseBodyMode) === 'FULL_DUPLEX_STREAMED'
    )
  }

  private onReply(reply: ProcessingResponse): void {
    this.stats.stream_msgs_received++
    if (this.finishing && this.terminal) return
    if (this.cfg.observabilityMode) {
      this.result.violations.push(`reply ${reply.response ?? '(none)'} sent in observability mode`)
      return
    }
    this.acceptDynamicMetadata(reply)
    const kind = reply.response
    if (!kind) {
      if (reply.override_message_timeout) {
        this.stats.override_message_timeout_received++
        return
      }
      if (!reply.mode_override) this.spurious('empty ProcessingResponse (no reply type set)')
      return
    }
    if (kind === 'immediate_response') {
      this.stats.immediate_responses_received++
      this.end({ kind: 'immediate', reply: reply.immediate_response ?? {} })
      return
    }
    if (kind === 'streamed_immediate_response') {
      this.spurious('streamed_immediate_response is not emulated')
      return
    }
    const dir: Dir = kind.startsWith('request') ? 'request' : 'response'
    const slot = kind.slice(kind.indexOf('_') + 1) as Slot
    const collector = this.duplex[dir]
    if (slot === 'body' && collector) {
      this.onDuplexBody(dir, collector, reply)
      return
    }
    const queue = this.queues[dir]
    const head = queue[0]
    if (!head || head.slot !== slot) {
      const expected = head
        ? `${head.type} was outstanding`
        : `nothing was outstanding in the ${dir} direction`
      this.spurious(`${kind} reply while ${expected}`)
      return
    }
    queue.shift()
    this.stopTimer(dir)
    this.result.latencies.push({ type: head.type, ms: performance.now() - head.sentAt })
    head.resolve({ kind: 'reply', reply })
  }

  private onDuplexBody(
    dir: Dir,
    collector: DuplexCollector & { resolve: (o: Outcome) => void },
    reply: ProcessingResponse,
  ) {
    const mutation = (dir === 'request' ? reply.request_body : reply.response_body)?.response?.body_mutation
    const streamed: StreamedBodyResponse | undefined = mutation?.streamed_response
    if (!streamed) return this.spurious('FULL_DUPLEX_STREAMED body reply without streamed_response')
    collector.chunks.push(Buffer.from(streamed.body ?? Buffer.alloc(0)))
    if (streamed.end_of_stream) {
      if (!collector.eosSent) return this.spurious('streamed_response end_of_stream before the body ended')
      delete this.duplex[dir]
      collector.resolve({ kind: 'reply', reply })
    }
  }

  private acceptDynamicMetadata(reply: ProcessingResponse): void {
    for (const [ns, value] of Object.entries(reply.dynamic_metadata?.fields ?? {})) {
      if (this.cfg.receivingNamespaces.includes(ns)) this.result.dynamicMetadata[ns] = value
    }
  }

  private spurious(detail: string): void {
    this.stats.spurious_msgs_received++
    this.result.violations.push(`spurious message: ${detail}`)
    this.end({ kind: 'spurious', detail })
  }

  /** Ends the stream for good: every outstanding and later message resolves with `outcome`. */
  private end(outcome: Outcome): void {
    if (this.terminal) return
    this.terminal = outcome
    for (const dir of ['request', 'response'] as const) {
      this.stopTimer(dir)
      for (const p of this.queues[dir].splice(0)) p.resolve(outcome)
      this.duplex[dir]?.resolve(outcome)
      delete this.duplex[dir]
    }
    if (outcome.kind !== 'closed') this.close()
  }

  /** Envoy's normal end: half-close, then RST_STREAM CANCEL right after. */
  close(): void {
    if (this.finishing) return
    this.finishing = true
    for (const dir of ['request', 'response'] as const) {
      this.stopTimer(dir)
      for (const p of this.queues[dir].splice(0)) {
        this.result.violations.push(`${p.type}: no reply before the stream ended`)
        p.resolve({ kind: 'closed', ok: false, detail: 'stream ended' })
      }
    }
    const call = this.call
    if (!call) return
    call.end()
    // On a stream the server already ended the reset is a no-op, as Envoy's reset of a finished stream is.
    let statusSeen = false
    call.once('status', () => {
      statusSeen = true
    })
    setTimeout(() => {
      if (!statusSeen) call.cancel()
    }, RESET_DELAY_MS).unref()
  }

  /** Observability mode: keep the stream open for the deferred close time, or until the server ends it. */
  async closeDeferred(): Promise<void> {
    if (!this.call || !this.closedPromise) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.closedPromise,
      new Promise<void>((r) => {
        timer = setTimeout(r, this.cfg.deferredCloseMs)
      }),
    ])
    clearTimeout(timer)
    this.close()
  }
}

function versionAtLeast(cfg: FilterConfig, major: number, minor: number): boolean {
  const [ma, mi] = cfg.envoyVersion
  return ma > major || (ma === major && mi >= minor)
}

function structs(metadata: Record<string, Record<string, unknown>>) {
  const out: Record<string, ReturnType<typeof toStruct>> = {}
  for (const [ns, obj] of Object.entries(metadata)) out[ns] = toStruct(obj)
  return out
}
