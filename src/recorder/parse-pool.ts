/**
 * A small worker_threads pool that runs buildTurn off the main thread (size 0: inline, one exchange
 * per event-loop turn). Bounded in-flight work per worker and a byte-bounded backlog; a worker that
 * crashes or hangs is replaced and its exchanges are dropped with a reason, never the process.
 */
import { Worker } from 'node:worker_threads'
import type { Exchange } from '../extproc/exchange.js'
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
  /** Old-generation heap cap of each worker: a body that blows it kills that worker, not the process. */
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
const DEFAULT_PENDING_BYTES = 256 * 1024 * 1024
const DEFAULT_JOB_TIMEOUT_MS = 60_000

interface Job {
  id: number
  exchange: Exchange
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

/**
 * Under tsx/vitest this module is TypeScript, and so is the worker entry. Node 20 applies
 * `--import tsx` in a worker's execArgv only after the worker's main module has been resolved, so a
 * .ts entry is loaded through a tiny bootstrap that registers tsx first.
 */
function spawnWorker(buildOptions: TurnBuildOptions, maxHeapMb: number | undefined): Worker {
  const common = {
    workerData: buildOptions,
    ...(maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } } : {}),
  }
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./parse-worker.js', import.meta.url), common)
  const entry = new URL('./parse-worker.ts', import.meta.url).href
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(bootstrap, { ...common, eval: true })
}

function weightOf(exchange: Exchange): number {
  return exchange.request.body.size + (exchange.response?.body.size ?? 0)
}

export function createParsePool(options: ParsePoolOptions): ParsePool {
  const maxInFlight = Math.max(1, options.maxInFlightPerWorker ?? DEFAULT_IN_FLIGHT)
  const maxPendingBytes = options.maxPendingBytes ?? DEFAULT_PENDING_BYTES
  const jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS
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
      slot.worker = spawnWorker(options.buildOptions, options.maxWorkerHeapMb)
      attach(slot)
      dispatch()
    })
  }

  const slots: Slot[] = Array.from({ length: Math.max(0, options.size) }, () => {
    const slot: Slot = {
      worker: spawnWorker(options.buildOptions, options.maxWorkerHeapMb),
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
      result = buildTurn(job.exchange, options.buildOptions)
    } catch (err) {
      result = { ok: false, reason: 'build_failed', detail: (err as Error).message }
    }
    finish(job, result)
    dispatch()
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
      // Cloned, not transferred: the chunks may be views into buffers grpc still owns.
      slot.worker.postMessage({ id: job.id, exchange: job.exchange } satisfies ParseJob)
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
