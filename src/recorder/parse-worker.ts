/**
 * Entry of a parse worker thread: builds Turns from Exchanges posted by the parse pool, so decoding,
 * parsing and hashing large bodies never stall the event loop that answers Envoy.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { CapturedBody, Exchange } from '../extproc/exchange.js'
import type { ParseJob, ParseReply } from './parse-protocol.js'
import { buildTurn, type TurnBuildOptions } from './turn-builder.js'

/** Structured clone turns Buffers into plain Uint8Arrays; decoding and parsing need Buffer methods. */
function withBuffers(body: CapturedBody): CapturedBody {
  return { ...body, chunks: body.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)) }
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

const options = workerData as TurnBuildOptions
const port = parentPort
if (!port) throw new Error('parse-worker must run inside a worker thread')

port.on('message', (job: ParseJob) => {
  let reply: ParseReply
  try {
    reply = { id: job.id, result: buildTurn(rehydrate(job.exchange), options) }
  } catch (err) {
    // A parser bug costs this exchange, not the worker.
    reply = { id: job.id, result: { ok: false, reason: 'build_failed', detail: (err as Error).message } }
  }
  port.postMessage(reply)
})
