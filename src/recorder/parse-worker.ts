/**
 * Entry of a parse worker thread: builds Turns from Exchanges posted by the parse pool, so decoding,
 * parsing and hashing large bodies never stall the event loop that answers Envoy.
 */
import os from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import type { CapturedBody, Exchange } from '../exchange.js'
import { encodeNodes } from '../store/node-records.js'
import type { ParseJob, ParseReply } from './parse-protocol.js'
import { buildTurn, type TurnBuildOptions, type TurnBuildResult } from './turn-builder.js'

/** Bodies arrive as views of shared memory (parse-pool.ts packBody); decoding and parsing need Buffers. */
function withBuffers(body: CapturedBody): CapturedBody {
  return { ...body, chunks: body.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)) }
}

/**
 * The nodes' content leaves as one encoded, transferred buffer (no copy); the turn keeps the nodes'
 * hashes and roles only, so the main thread never holds the content as objects. The compressed raw
 * bodies own their buffers too and are transferred with it.
 */
function reply(id: number, result: TurnBuildResult): { message: ParseReply; transfer: ArrayBuffer[] } {
  if (!result.ok) return { message: { id, result }, transfer: [] }
  const encodedNodes = encodeNodes(result.turn.nodes)
  const nodes = result.turn.nodes.map((node) => ({ ...node, content: null }))
  const raw = result.turn.rawBodies
  return {
    message: { id, result: { ...result, turn: { ...result.turn, nodes }, encodedNodes } },
    transfer: [
      encodedNodes.buffer as ArrayBuffer,
      ...(raw ? [raw.request.bytes.buffer as ArrayBuffer, raw.response.bytes.buffer as ArrayBuffer] : []),
    ],
  }
}

function rehydrate(exchange: Exchange): Exchange {
  return {
    ...exchange,
    request: { ...exchange.request, body: withBuffers(exchange.request.body) },
    ...(exchange.response
      ? { response: { ...exchange.response, body: withBuffers(exchange.response.body) } }
      : {}),
  }
}

/**
 * Parsing yields the CPU to the thread that answers Envoy: Linux keeps a nice value per thread, so
 * this lowers only this worker. Under sustained overload the parse backlog grows (and is bounded by
 * the pool's byte budget) instead of replies slowing down.
 */
const WORKER_NICE = 10
try {
  os.setPriority(0, WORKER_NICE)
} catch {
  // Not permitted here: the worker runs at the process's priority.
}

const options = workerData as TurnBuildOptions
const port = parentPort
if (!port) throw new Error('parse-worker must run inside a worker thread')

port.on('message', (job: ParseJob) => {
  let out: ReturnType<typeof reply>
  try {
    out = reply(job.id, buildTurn(rehydrate(job.exchange), options))
  } catch (err) {
    // A parser bug costs this exchange, not the worker.
    out = {
      message: { id: job.id, result: { ok: false, reason: 'build_failed', detail: (err as Error).message } },
      transfer: [],
    }
  }
  port.postMessage(out.message, out.transfer)
})
