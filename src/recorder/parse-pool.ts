/**
 * A small worker_threads pool that runs buildTurn off the main thread (size 0: inline, one exchange
 * per event-loop turn). Bounded in-flight work per worker and a byte-bounded backlog; a worker that
 * crashes or hangs is replaced and its exchanges are dropped with a reason, never the process.
 */
import type { Worker } from 'node:worker_threads'
import type { CapturedBody, Exchange } from '../exchange.js'
import { LIMITS } from '../limits.js'
import { startWorker } from '../worker-entry.js'
import type { ParseJob, ParseReply, ParseResult, PoolDropReason } from './parse-protocol.js'
import { buildTurn, type TurnBuildOptions } from './turn-builder.js'

export interface ParsePoolOptions {
  /** Worker threads; 0 runs buildTurn on the main thread. */
  size: number
  buildOptions: TurnBuildOptions
  /** Exchanges posted to one worker at once: enough to hide the message round trip, few to lose on a crash. */
  maxInFlightPerWorker?: number
  /** Raw body bytes allowed to wait for a worker; beyond it exchanges are dropped ('parse_backlog'). */
  maxPendingBytes?: number
  /** A worker holding one exchange longer than this is terminated and replaced. */
  jobTimeoutMs?: number
  /** Old-generation heap cap of each worker (default LIMITS.parseWorkerHeapMb): a body that blows it kills that worker, not the process. */
  maxWorkerHeapMb?: number
  onWorkerFailure?: (reason: PoolDropReason, detail: string) => void
}

export interface ParsePool {
  run(exchange: Exchange): Promise<ParseResult>
  /** Exchanges accepted and not yet answered. */
  readonly pending: number
  close(): Promise<void>
}

const DEFAULT_IN_FLIGHT = 2

interface Job {
  id: number
  /** Cleared once posted to a worker, so the captured chunks can be freed while it parses. */
  exchange: Exchange | undefined
  weight: number
  resolve(result: ParseResult): void
}

interface Slot {
  worker: Worker
  inFlight: Map<number, Job>
  timer: NodeJS.Timeout | undefined
  /** Set before terminating on purpose, so the exit handler knows what to call the loss. */
  exitReason: PoolDropReason | undefined
  /** The uncaught error that is killing the worker, if any. */
  failure: string | undefined
}

function spawnWorker(buildOptions: TurnBuildOptions, maxHeapMb: number | undefined): Worker {
  return startWorker(import.meta.url, 'parse-worker', {
    workerData: buildOptions,
    ...(maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } } : {}),
  })
}

/** Bytes copied per macrotask while packing a body: a few hundred microseconds of memcpy at most. */
const PACK_SLICE_BYTES = 1024 * 1024

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Copies a body's chunks into one SharedArrayBuffer, PACK_SLICE_BYTES per macrotask, so Envoy's
 * messages are answered in between. Cloning the chunks instead would copy every chunk's whole backing
 * buffer in one blocking step (tens of ms for 20 MB); the shared buffer crosses to the worker uncopied.
 */
async function packBody(body: CapturedBody): Promise<CapturedBody> {
  const packed = new Uint8Array(new SharedArrayBuffer(body.size))
  let at = 0
  let sinceYield = 0
  for (const chunk of body.chunks) {
    for (let from = 0; from < chunk.length; ) {
      const n = Math.min(chunk.length - from, PACK_SLICE_BYTES - sinceYield)
      packed.set(chunk.subarray(from, from + n), at)
      at += n
      from += n
      sinceYield += n
      if (sinceYield >= PACK_SLICE_BYTES) {
        await nextMacrotask()
        sinceYield = 0
      }
    }
  }
  return { ...body, chunks: body.size > 0 ? [packed as unknown as Buffer] : [] }
}

async function packExchange(exchange: Exchange): Promise<Exchange> {
  const request = { ...exchange.request, body: await packBody(exchange.request.body) }
  if (!exchange.response) return { ...exchange, request }
  return {
    ...exchange,
    request,
    response: { ...exchange.response, body: await packBody(exchange.response.body) },
  }
}

function weightOf(exchange: Exchange): number {
  return exchange.request.body.size + (exchange.response?.body.size ?? 0)
}

export function createParsePool(options: ParsePoolOptions): ParsePool {
  const maxInFlight = Math.max(1, options.maxInFlightPerWorker ?? DEFAULT_IN_FLIGHT)
  const maxPendingBytes = options.maxPendingBytes ?? LIMITS.parsePendingBytes
  const jobTimeoutMs = options.jobTimeoutMs ?? LIMITS.parseJobTimeoutMs
  const waiting: Job[] = []
  let waitingBytes = 0
  let pending = 0
  let nextId = 1
  let closed = false
  let inlineScheduled = false

  const finish = (job: Job, result: ParseResult) => {
    pending--
    job.resolve(result)
  }

  const armTimer = (slot: Slot) => {
    clearTimeout(slot.timer)
    slot.timer =
      slot.inFlight.size === 0
        ? undefined
        : setTimeout(() => {
            slot.exitReason = 'parse_timeout'
            void slot.worker.terminate()
          }, jobTimeoutMs)
  }

  const attach = (slot: Slot) => {
    slot.worker.on('message', (reply: ParseReply) => {
      const job = slot.inFlight.get(reply.id)
      if (!job) return
      slot.inFlight.delete(reply.id)
      armTimer(slot)
      finish(job, reply.result)
      dispatch()
    })
    // Without an 'error' listener an uncaught exception in the worker would crash this process.
    slot.worker.on('error', (err) => {
      slot.failure = err.message
    })
    slot.worker.on('exit', (code) => {
      clearTimeout(slot.timer)
      const reason = closed ? 'pool_closed' : (slot.exitReason ?? 'worker_crashed')
      const detail = slot.failure ?? `worker exited with code ${code}`
      const lost = [...slot.inFlight.values()]
      slot.inFlight.clear()
      for (const job of lost) finish(job, { ok: false, reason, detail })
      if (closed) return
      options.onWorkerFailure?.(reason, detail)
      slot.exitReason = undefined
      slot.failure = undefined
      slot.worker = spawnWorker(options.buildOptions, options.maxWorkerHeapMb ?? LIMITS.parseWorkerHeapMb)
      attach(slot)
      dispatch()
    })
  }

  const slots: Slot[] = Array.from({ length: Math.max(0, options.size) }, () => {
    const slot: Slot = {
      worker: spawnWorker(options.buildOptions, options.maxWorkerHeapMb ?? LIMITS.parseWorkerHeapMb),
      inFlight: new Map(),
      timer: undefined,
      exitReason: undefined,
      failure: undefined,
    }
    attach(slot)
    return slot
  })

  const take = (): Job | undefined => {
    const job = waiting.shift()
    if (job) waitingBytes -= job.weight
    return job
  }

  const runInline = () => {
    inlineScheduled = false
    const job = take()
    if (!job) return
    let result: ParseResult
    try {
      result = buildTurn(job.exchange!, options.buildOptions)
    } catch (err) {
      result = { ok: false, reason: 'build_failed', detail: (err as Error).message }
    }
    finish(job, result)
    dispatch()
  }

  /** Packs the bodies, then posts; a job lost to a worker exit meanwhile was already answered. */
  async function post(slot: Slot, job: Job): Promise<void> {
    const worker = slot.worker
    let exchange: Exchange
    try {
      exchange = await packExchange(job.exchange!)
    } catch (err) {
      if (slot.inFlight.delete(job.id)) {
        armTimer(slot)
        finish(job, { ok: false, reason: 'build_failed', detail: (err as Error).message })
        dispatch()
      }
      return
    }
    job.exchange = undefined
    if (slot.worker !== worker || slot.inFlight.get(job.id) !== job) return
    slot.worker.postMessage({ id: job.id, exchange } satisfies ParseJob)
  }

  function dispatch(): void {
    if (slots.length === 0) {
      // One exchange per macrotask, so I/O (Envoy's messages) is served between builds.
      if (!inlineScheduled && waiting.length > 0) {
        inlineScheduled = true
        setImmediate(runInline)
      }
      return
    }
    while (waiting.length > 0) {
      const slot = slots.reduce((a, b) => (b.inFlight.size < a.inFlight.size ? b : a))
      if (slot.inFlight.size >= maxInFlight) return
      const job = take()!
      slot.inFlight.set(job.id, job)
      if (slot.inFlight.size === 1) armTimer(slot)
      void post(slot, job)
    }
  }

  return {
    run(exchange) {
      if (closed) return Promise.resolve({ ok: false, reason: 'pool_closed' })
      const weight = weightOf(exchange)
      // One oversized exchange is still admitted when nothing waits: the capture budget bounds it.
      if (waiting.length > 0 && waitingBytes + weight > maxPendingBytes) {
        return Promise.resolve({ ok: false, reason: 'parse_backlog' })
      }
      return new Promise<ParseResult>((resolve) => {
        pending++
        waiting.push({ id: nextId++, exchange, weight, resolve })
        waitingBytes += weight
        dispatch()
      })
    },
    get pending() {
      return pending
    },
    async close() {
      closed = true
      for (const job of waiting.splice(0)) finish(job, { ok: false, reason: 'pool_closed' })
      waitingBytes = 0
      await Promise.all(slots.map((slot) => slot.worker.terminate()))
    },
  }
}
