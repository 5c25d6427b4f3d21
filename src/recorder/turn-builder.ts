/**
 * Exchange → Turn: decode, parse, hash, resolve the session envelope and price one captured LLM call.
 * Pure and synchronous so it runs the same on the main thread and inside a parse worker.
 */

import type { Exchange } from '../exchange.js'
import { LIMITS } from '../limits.js'
import { loopHash } from '../loop/loop-hash.js'
import { costUsd } from '../pricing/cost.js'
import type { PriceTable } from '../pricing/schema.js'
import type { ProviderHosts } from '../providers/hosts.js'
import { detectApi, parseRequest, parseResponse } from '../providers/index.js'
import { completeChain, requestChain } from '../session/chain.js'
import { resolveEnvelope } from '../session/envelope.js'
import type { EnvelopeOptions } from '../session/envelope-options.js'
import { NodeCache } from '../session/node-cache.js'
import {
  compileRedaction,
  type Redaction,
  type RedactionPattern,
  type Redactor,
} from '../session/redaction.js'
import { subagentSpawns, taskPromptHash } from '../session/subagent.js'
import type { ChainNode, RawBodies, Turn } from '../session/turn.js'
import { compressRawBody, RAW_BODY_ENCODING } from '../store/raw-body-codec.js'
import { decodeBody } from './body-decoding.js'

/** Why an exchange does not become a turn. */
export const BUILD_DROP_REASONS = [
  'not_llm_api', // detectApi skipped it (detail: its skip reason)
  'no_response', // the stream ended before any response headers
  'over_budget', // the request body outgrew the capture budget, so it cannot be parsed
  'request_decode', // the request's content-encoding could not be undone
  'request_parse', // the request body is not a valid request of the detected API
  'response_decode', // the response's content-encoding yielded no bytes at all
  'decoded_too_large', // a body decoded past the size or ratio cap (a compression bomb): cut off there
] as const
export type BuildDropReason = (typeof BUILD_DROP_REASONS)[number]

/** Plain data only: it is posted to parse workers by structured clone. */
export interface TurnBuildOptions {
  envelope: EnvelopeOptions
  prices: PriceTable
  /** False keeps hashes, roles and parent links of nodes but not their content. */
  storeContent: boolean
  /** False stores no raw bodies (absent: stored). Raw bodies are content: storeContent false stores none. */
  storeRaw?: boolean
  /** Configured host → provider names (SESSIONTAP_PROVIDER_HOSTS); absent: the built-in table only. */
  providerHosts?: ProviderHosts
  /** Output cap of body decoding (compression bombs); decodeBody's default when absent. */
  maxDecodedBytes?: number
  /** False stores credentials found in content as they are (absent: redacted). */
  redact?: boolean
  /** Patterns redacted besides the built-in ones (SESSIONTAP_REDACT_PATTERNS). */
  redactPatterns?: readonly RedactionPattern[]
  /** Budget of the node cache (absent: LIMITS.nodeCacheBytes; 0: no cache, every item hashed anew). */
  nodeCacheBytes?: number
}

/** Compiled once per options object (a worker keeps its own), not once per turn. */
const redactions = new WeakMap<TurnBuildOptions, Redaction>()
function redactionFor(options: TurnBuildOptions): Redaction {
  let redaction = redactions.get(options)
  if (!redaction) {
    redaction = compileRedaction(options.redactPatterns)
    redactions.set(options, redaction)
  }
  return redaction
}

/**
 * One node cache per options object, like the redaction: a worker's options are its own, and the
 * cache's entries hold redacted content, so they must never be shared across redaction settings.
 */
const nodeCaches = new WeakMap<TurnBuildOptions, NodeCache | null>()
export function nodeCacheFor(options: TurnBuildOptions): NodeCache | null {
  let cache = nodeCaches.get(options)
  if (cache === undefined) {
    const budget = options.nodeCacheBytes ?? LIMITS.nodeCacheBytes
    cache = budget > 0 ? new NodeCache(budget) : null
    nodeCaches.set(options, cache)
  }
  return cache
}

/** The same bytes when nothing matched (no re-encoding), else the redacted text. */
function redactBytes(bytes: Buffer, redactor: Redactor | null): Buffer {
  if (!redactor) return bytes
  const text = bytes.toString('utf8')
  const redacted = redactor.text(text)
  return redacted === text ? bytes : Buffer.from(redacted)
}

export interface NodeCacheUse {
  hits: number
  misses: number
  evictions: number
}

/** The cache's counters now, less `before`: what one build did (per-build deltas add up across workers). */
function cacheUse(cache: NodeCache | null, before: NodeCacheUse): NodeCacheUse {
  const now = cache?.stats() ?? before
  return {
    hits: now.hits - before.hits,
    misses: now.misses - before.misses,
    evictions: now.evictions - before.evictions,
  }
}

const nullIfEmpty = <T>(items: T[]): T[] | null => (items.length === 0 ? null : items)

export type TurnBuildResult =
  | {
      ok: true
      turn: Turn
      /** Why parts of the turn are missing (decode errors). No content. */
      notes: string[]
      /** Envelope values refused as `<source>:<reason>` (bad ids, spoofed org, oversized headers); counted. */
      rejected: string[]
      /** Credentials replaced in the turn's content (and so in its raw bodies too); counted. */
      redacted: number
      /** What this build did to its worker's node cache (zeros without one); counted. */
      nodeCache: NodeCacheUse
    }
  | { ok: false; reason: BuildDropReason; detail?: string }

function contentFree(nodes: ChainNode[]): ChainNode[] {
  // Hashes were computed over the content before it is dropped here, so chains still link up;
  // the content column then holds NULL (see the report: nodes.content must allow NULL).
  return nodes.map((node) => ({ ...node, content: null }))
}

/** The decoded bodies, compressed here (a parse worker) so the main thread only moves the bytes. */
function rawBodiesOf(
  request: { bytes: Uint8Array; whole: boolean },
  response: { bytes: Uint8Array; whole: boolean },
): RawBodies {
  return {
    encoding: RAW_BODY_ENCODING,
    request: compressRawBody(request.bytes, request.whole),
    response: compressRawBody(response.bytes, response.whole),
  }
}

export function buildTurn(exchange: Exchange, options: TurnBuildOptions): TurnBuildResult {
  const { request, response, timing } = exchange
  const detection = detectApi(request.method, request.path, request.headers, {
    authority: request.authority,
    ...(options.providerHosts ? { providerHosts: options.providerHosts } : {}),
  })
  if (!detection.ok) return { ok: false, reason: 'not_llm_api', detail: detection.reason }
  if (exchange.ending === 'no_response' || response === undefined) return { ok: false, reason: 'no_response' }
  if (request.body.stopped === 'over_budget') return { ok: false, reason: 'over_budget' }

  const requestBytes = decodeBody(request.body.chunks, request.body.encoding, options.maxDecodedBytes)
  if (requestBytes.overLimit) return { ok: false, reason: 'decoded_too_large', detail: 'request' }
  if (requestBytes.error) return { ok: false, reason: 'request_decode', detail: requestBytes.error }
  const parsedRequest = parseRequest(detection.api, requestBytes.bytes, request.path)
  if (!parsedRequest.ok) return { ok: false, reason: 'request_parse', detail: parsedRequest.reason }

  const notes: string[] = []
  // A truncated body still decodes to the bytes it held: those are parsed and the turn is incomplete.
  const responseBytes = decodeBody(response.body.chunks, response.body.encoding, options.maxDecodedBytes)
  if (responseBytes.overLimit) return { ok: false, reason: 'decoded_too_large', detail: 'response' }
  if (responseBytes.error) {
    if (responseBytes.bytes.length === 0) {
      return { ok: false, reason: 'response_decode', detail: responseBytes.error }
    }
    notes.push(`response decode: ${responseBytes.error}`)
  }
  const unredacted = parseResponse({
    api: detection.api,
    status: response.status,
    contentType: response.headers['content-type'],
    body: responseBytes.bytes,
    request: parsedRequest.value,
  })
  // Secrets go before anything is hashed or kept, so every copy of a conversation redacts alike.
  const redactor = options.redact === false ? null : redactionFor(options).redactor()
  // The raw bodies hold the same secrets again: redacted too, not counted twice.
  const rawRedactor = options.redact === false ? null : redactionFor(options).redactor()
  const cache = nodeCacheFor(options)
  const cacheBefore = cache?.stats() ?? { hits: 0, misses: 0, evictions: 0 }
  const head = requestChain(parsedRequest.value, redactor, cache)
  const parsedReq = { ...parsedRequest.value, system: head.system, messages: head.messages }
  const parsed = redactor
    ? {
        ...unredacted,
        message: redactor.deep(unredacted.message),
        alternatives: redactor.deep(unredacted.alternatives),
        error: redactor.deep(unredacted.error),
      }
    : unredacted

  const chain = completeChain(head, parsed)
  const { envelope, rejected } = resolveEnvelope(
    {
      headers: request.headers,
      metadata: exchange.metadata,
      hints: parsedReq.hints,
      conversationHash: chain.conversationHash,
      requestId: exchange.requestId,
    },
    options.envelope,
  )

  const model = parsedRequest.value.model
  const turn: Turn = {
    requestId: exchange.requestId,
    envelope,
    provider: detection.provider,
    api: detection.api,
    model,
    responseModel: parsed.model,
    statusCode: response.status,
    isStreaming: parsedRequest.value.stream,
    isComplete:
      exchange.ending === 'complete' &&
      response.body.complete &&
      responseBytes.error === undefined &&
      parsed.complete,
    stopReason: parsed.stopReason,
    usage: parsed.usage,
    costUsd: costUsd(detection.provider, parsed.model ?? model, parsed.usage, options.prices),
    startedAt: new Date(timing.startedAt),
    latencyMs: timing.endedAt - timing.startedAt,
    ttftMs: timing.firstResponseAt === undefined ? null : timing.firstResponseAt - timing.startedAt,
    providerTiming: parsed.providerTiming ?? null,
    nodes: options.storeContent ? chain.nodes : contentFree(chain.nodes),
    requestLeafHash: chain.requestLeafHash,
    responseHash: chain.responseHash,
    choiceHashes: chain.choiceHashes,
    providerResponseId: parsed.providerResponseId,
    previousResponseId: parsedRequest.value.hints.previousResponseId ?? null,
    subagentSpawns: nullIfEmpty(subagentSpawns(envelope.harnessId, parsed.message?.content ?? [])),
    taskPromptHash: taskPromptHash(envelope.harnessId, parsedReq.messages),
    errorType: parsed.error?.type ?? null,
    errorMessage: parsed.error?.message ?? null,
    loopHash: loopHash(parsedReq),
    rawBodies:
      options.storeContent && (options.storeRaw ?? true)
        ? rawBodiesOf(
            { bytes: redactBytes(requestBytes.bytes, rawRedactor), whole: request.body.complete },
            {
              bytes: redactBytes(responseBytes.bytes, rawRedactor),
              whole: response.body.complete && responseBytes.error === undefined,
            },
          )
        : null,
  }
  return {
    ok: true,
    turn,
    notes,
    rejected,
    redacted: (redactor?.count ?? 0) + head.reusedRedactions,
    nodeCache: cacheUse(cache, cacheBefore),
  }
}
