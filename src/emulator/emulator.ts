/**
 * Plays one HTTP exchange through an ext_proc server the way Envoy's filter would for a given filter
 * configuration, as Envoy's own ext_proc tests (filter_test.cc, ext_proc_integration_test.cc) expect it:
 * which messages are sent in each mode, what is held until a reply, how replies change what reaches the
 * upstream and the client, and what a failure does.
 */
import type * as grpc from '@grpc/grpc-js'
import { v7 as uuidv7 } from 'uuid'
import type { BodySendMode, CommonResponse, HeaderSendMode, ProcessingResponse } from '../extproc/messages.js'
import { chunkBody } from './chunking.js'
import { immediateStatus } from './codec.js'
import { applyHeaderMutation, type HeaderList } from './mutations.js'
import { type Dir, type Outcome, SideStream } from './side-stream.js'
import type {
  EmulatedExchange,
  EmulatorStats,
  FilterConfig,
  ForwardedRequest,
  HttpExchangeSpec,
  LiveExchangeSpec,
  ResponseSpec,
} from './types.js'

/** What a reply meant for the HTTP exchange. */
type Step = 'processed' | 'unprocessed' | 'local'

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host'])

export async function runExchange(
  client: grpc.Client,
  cfg: FilterConfig,
  spec: HttpExchangeSpec | LiveExchangeSpec,
  stats: EmulatorStats,
): Promise<EmulatedExchange> {
  const requestId = spec.requestId ?? uuidv7()
  const result: EmulatedExchange = {
    requestId,
    upstreamRequest: { headers: [], body: Buffer.alloc(0) },
    violations: [],
    warnings: [],
    latencies: [],
    dynamicMetadata: {},
  }
  const requestHeaders: HeaderList = [
    [':method', spec.request.method],
    [':scheme', spec.request.scheme ?? 'http'],
    [':authority', spec.request.authority],
    [':path', spec.request.path],
    ...normalize(spec.request.headers),
    ['x-request-id', requestId],
  ]
  const fixedResponse = typeof spec.response === 'function' ? undefined : spec.response
  const attributes = {
    request: attributesFor(cfg.requestAttributes, spec, undefined, requestId),
    response: fixedResponse
      ? attributesFor(cfg.responseAttributes, spec, fixedResponse.status, requestId)
      : {},
  }
  const side = new SideStream(client, cfg, stats, result, attributes)
  const modes = {
    request: { header: cfg.requestHeaderMode, body: cfg.requestBodyMode, trailer: cfg.requestTrailerMode },
    response: {
      header: cfg.responseHeaderMode,
      body: cfg.responseBodyMode,
      trailer: cfg.responseTrailerMode,
    },
  }
  let processing = true

  /** Turns an outcome into what Envoy does next; records local replies. */
  const settle = (o: Outcome, dir: Dir): Step => {
    switch (o.kind) {
      case 'reply':
        return 'processed'
      case 'immediate': {
        const body = Buffer.from(o.reply.body ?? Buffer.alloc(0)).toString('utf8')
        result.localReply = {
          status: immediateStatus(o.reply.status?.code),
          details: o.reply.details ?? '',
          body,
        }
        return 'local'
      }
      case 'timeout':
        if (cfg.failureModeAllow) return failOpen()
        result.localReply = { status: 504, details: 'ext_proc_error_per-message_timeout_exceeded', body: '' }
        return 'local'
      case 'closed':
        if (o.ok || cfg.failureModeAllow) return failOpen()
        result.localReply = { status: 500, details: `ext_proc_error_gRPC_error_${o.detail}`, body: '' }
        return 'local'
      case 'spurious':
        if (cfg.failureModeAllow) return failOpen()
        result.localReply = { status: 500, details: `spurious message (${dir})`, body: '' }
        return 'local'
    }
  }
  const failOpen = (): Step => {
    if (processing) stats.failure_mode_allowed++
    processing = false
    return 'unprocessed'
  }

  const commonOf = (reply: ProcessingResponse, key: keyof ProcessingResponse): CommonResponse | undefined =>
    (reply[key] as { response?: CommonResponse } | undefined)?.response

  const applyMutation = (headers: HeaderList, common: CommonResponse | undefined, stripped: boolean) => {
    const out = applyHeaderMutation(headers, common?.header_mutation, {
      contentLengthStripped: stripped,
      replace: common?.status === 'CONTINUE_AND_REPLACE',
    })
    stats.rejected_header_mutations += out.rejected
    result.warnings.push(...out.warnings)
    if (out.errors.length > 0) {
      result.violations.push(...out.errors.map((e) => `invalid mutation: ${e}`))
      result.localReply ??= { status: 500, details: out.errors[0] ?? '', body: '' }
      return false
    }
    return true
  }

  /** Headers message, its reply, and any mode_override. Returns false when the exchange ended locally. */
  const processHeaders = async (dir: Dir, headers: HeaderList, eos: boolean, early?: Promise<Outcome>) => {
    const mode = modes[dir]
    if (!processing || mode.header === 'SKIP') return true
    const type = dir === 'request' ? 'request_headers' : 'response_headers'
    // Sent synchronously, so that in FULL_DUPLEX_STREAMED the body chunks follow it without waiting.
    const pending =
      early ??
      side.send(type, { headers: toProtoHeaderMap(headers), end_of_stream: eos }, !cfg.observabilityMode)
    if (cfg.observabilityMode) return true
    const step = settle(await pending, dir)
    if (step === 'local') return false
    if (step === 'processed') {
      const reply = ((await pending) as { reply: ProcessingResponse }).reply
      if (!applyMutation(headers, commonOf(reply, type), stripsContentLength(mode.body, mode.header)))
        return false
      if (reply.mode_override && cfg.allowModeOverride && !isDuplexConfigured(cfg)) {
        const o = reply.mode_override
        // Envoy ≥1.34: DEFAULT keeps the header/trailer mode; body modes are taken literally (unset = NONE).
        for (const d of ['request', 'response'] as const) {
          modes[d].body = (o[`${d}_body_mode`] ?? 'NONE') as BodySendMode
          modes[d].header = keep(modes[d].header, o[`${d}_header_mode`])
          modes[d].trailer = keep(modes[d].trailer, o[`${d}_trailer_mode`])
        }
      }
      if (commonOf(reply, type)?.status === 'CONTINUE_AND_REPLACE')
        result.warnings.push(`${type}: CONTINUE_AND_REPLACE`)
    }
    return true
  }

  /** The body of one direction under its mode. Returns the forwarded bytes, or undefined after a local reply. */
  const processBody = async (
    dir: Dir,
    headers: HeaderList,
    body: Buffer,
    hasTrailers: boolean,
    headersOutcome: Promise<boolean> | boolean,
    beforeAwait?: () => void,
  ): Promise<Buffer | undefined> => {
    let mode = modes[dir].body
    const type = dir === 'request' ? 'request_body' : 'response_body'
    if (body.length === 0 && hasTrailers) return (await headersOutcome) ? body : undefined
    if (body.length === 0) return (await headersOutcome) ? body : undefined
    if (cfg.observabilityMode) {
      if (mode === 'STREAMED' && processing) {
        for (const chunk of plan(body)) {
          void side.send(type, { body: chunk.bytes, end_of_stream: chunk.last && !hasTrailers }, false)
        }
      }
      return body
    }
    if (mode === 'FULL_DUPLEX_STREAMED' && processing) {
      const collector = side.expectDuplexBody(dir)
      const chunks = plan(body)
      for (const chunk of chunks) {
        const eos = chunk.last && !hasTrailers
        if (eos) collector.eosSent = true
        void side.send(type, { body: chunk.bytes, end_of_stream: eos }, false)
      }
      beforeAwait?.()
      if (!(await headersOutcome)) return undefined
      if (hasTrailers) {
        collector.eosSent = true
        return Buffer.concat(collector.chunks)
      }
      const step = settle(await collector.done, dir)
      if (step === 'local') return undefined
      // Drained bytes that were never echoed are lost, exactly as in Envoy.
      return Buffer.concat(collector.chunks)
    }
    if (!(await headersOutcome)) return undefined
    // A mode_override on the headers reply may have changed the mode.
    mode = modes[dir].body
    if (!processing || mode === 'NONE' || mode === 'GRPC') return body
    if (mode === 'STREAMED') {
      const chunks = plan(body)
      const replies = chunks.map((c) =>
        side.send(type, { body: c.bytes, end_of_stream: c.last && !hasTrailers }, true),
      )
      beforeAwait?.()
      const out: Buffer[] = []
      for (const [i, pending] of replies.entries()) {
        const outcome = await pending
        const step = settle(outcome, dir)
        if (step === 'local') return undefined
        const chunk = chunks[i]!.bytes
        if (step === 'unprocessed') {
          out.push(chunk)
          continue
        }
        const common = commonOf((outcome as { reply: ProcessingResponse }).reply, type)
        const replaced = applyBodyMutation(chunk, common, mode)
        if (replaced === 'error') return markInvalid('streamed_response outside FULL_DUPLEX_STREAMED')
        if (common?.header_mutation)
          result.warnings.push(`${type}: header_mutation in a STREAMED body reply is ignored`)
        out.push(replaced)
      }
      return Buffer.concat(out)
    }
    // BUFFERED and BUFFERED_PARTIAL: one message, the headers held until its reply.
    if (mode === 'BUFFERED' && body.length > cfg.bufferLimitBytes) {
      result.localReply = {
        status: dir === 'request' ? 413 : 500,
        details: dir === 'request' ? 'request_payload_too_large' : 'response_payload_too_large',
        body: '',
      }
      return undefined
    }
    const partial = mode === 'BUFFERED_PARTIAL' && body.length > cfg.bufferLimitBytes
    const sent = partial ? body.subarray(0, cfg.bufferLimitBytes) : body
    const outcome = await side.send(type, { body: sent, end_of_stream: !partial && !hasTrailers }, true)
    beforeAwait?.()
    const step = settle(outcome, dir)
    if (step === 'local') return undefined
    if (step === 'unprocessed') return body
    const common = commonOf((outcome as { reply: ProcessingResponse }).reply, type)
    if (!applyMutation(headers, common, mode === 'BUFFERED_PARTIAL' || modes[dir].header === 'SKIP'))
      return undefined
    const replaced = applyBodyMutation(sent, common, mode)
    if (replaced === 'error') return markInvalid('streamed_response outside FULL_DUPLEX_STREAMED')
    const length = headers.find(([k]) => k === 'content-length')
    if (mode === 'BUFFERED' && length && Number(length[1]) !== replaced.length && replaced !== sent) {
      return markInvalid('mismatch between content length and the length of the mutated body')
    }
    return partial ? Buffer.concat([replaced, body.subarray(cfg.bufferLimitBytes)]) : replaced
  }

  const markInvalid = (detail: string): undefined => {
    result.violations.push(`invalid mutation: ${detail}`)
    result.localReply = { status: 500, details: detail, body: '' }
    return undefined
  }

  const processTrailers = async (dir: Dir, trailers: HeaderList | undefined): Promise<boolean> => {
    if (!trailers || !processing || modes[dir].trailer !== 'SEND') return true
    const type = dir === 'request' ? 'request_trailers' : 'response_trailers'
    const outcome = await side.send(type, { trailers: toProtoHeaderMap(trailers) }, !cfg.observabilityMode)
    if (cfg.observabilityMode) return true
    const step = settle(outcome, dir)
    if (step !== 'processed') return step !== 'local'
    const reply = (outcome as { reply: ProcessingResponse }).reply
    return applyMutation(trailers, { header_mutation: reply[type]?.header_mutation }, false)
  }

  const plan = (body: Buffer) => {
    const { chunks } = chunkBody(body, cfg.chunking)
    return chunks.map((bytes, i) => ({ bytes, last: i === chunks.length - 1 }))
  }

  // --- The request direction.
  const reqBody = spec.request.body
  const reqTrailers = spec.request.trailers ? normalize(spec.request.trailers) : undefined
  const reqHeadersDone = processHeaders('request', requestHeaders, reqBody.length === 0 && !reqTrailers)
  let earlyResponse: Promise<Outcome> | undefined
  const sendEarlyResponse =
    fixedResponse && 'earlyResponse' in spec && spec.earlyResponse && modes.response.header !== 'SKIP'
      ? () => {
          earlyResponse = side.send(
            'response_headers',
            {
              headers: toProtoHeaderMap(responseHeadersOf(fixedResponse)),
              end_of_stream: fixedResponse.body.length === 0 && !fixedResponse.trailers,
            },
            !cfg.observabilityMode,
          )
        }
      : undefined
  const upstreamBody = await processBody(
    'request',
    requestHeaders,
    reqBody,
    !!reqTrailers,
    reqHeadersDone,
    sendEarlyResponse,
  )
  if (upstreamBody !== undefined && (await processTrailers('request', reqTrailers))) {
    result.upstreamRequest = {
      headers: requestHeaders,
      body: upstreamBody,
      ...(reqTrailers ? { trailers: reqTrailers } : {}),
    }
    // --- The response direction (never shown to the server after a local reply, Envoy ≥1.34).
    const response =
      fixedResponse ??
      (await (spec.response as (r: ForwardedRequest) => Promise<ResponseSpec>)(result.upstreamRequest))
    Object.assign(
      attributes.response,
      attributesFor(cfg.responseAttributes, spec, response.status, requestId),
    )
    const responseHeaders = responseHeadersOf(response)
    const resBody = response.body
    const resTrailers = response.trailers ? normalize(response.trailers) : undefined
    const resHeadersDone = processHeaders(
      'response',
      responseHeaders,
      resBody.length === 0 && !resTrailers,
      earlyResponse,
    )
    const downstreamBody = await processBody(
      'response',
      responseHeaders,
      resBody,
      !!resTrailers,
      resHeadersDone,
    )
    if (downstreamBody !== undefined && (await processTrailers('response', resTrailers))) {
      result.downstreamResponse = {
        headers: responseHeaders,
        body: downstreamBody,
        ...(resTrailers ? { trailers: resTrailers } : {}),
      }
    }
  } else if (upstreamBody !== undefined) {
    result.upstreamRequest = { headers: requestHeaders, body: upstreamBody }
  }

  if (cfg.observabilityMode) await side.closeDeferred()
  else side.close()
  return result
}

function applyBodyMutation(
  chunk: Buffer,
  common: CommonResponse | undefined,
  mode: BodySendMode,
): Buffer | 'error' {
  const mutation = common?.body_mutation
  if (!mutation) return chunk
  if (mutation.streamed_response !== undefined && mode !== 'FULL_DUPLEX_STREAMED') return 'error'
  if (mutation.clear_body) return Buffer.alloc(0)
  if (mutation.body !== undefined) return Buffer.from(mutation.body)
  return chunk
}

function keep(current: HeaderSendMode, override: HeaderSendMode | undefined): HeaderSendMode {
  return !override || override === 'DEFAULT' ? current : override
}

function isDuplexConfigured(cfg: FilterConfig): boolean {
  return cfg.requestBodyMode === 'FULL_DUPLEX_STREAMED' || cfg.responseBodyMode === 'FULL_DUPLEX_STREAMED'
}

/** Envoy removes content-length when the body may change length under the mode. */
function stripsContentLength(body: BodySendMode, header: HeaderSendMode): boolean {
  return (
    body === 'STREAMED' ||
    body === 'BUFFERED_PARTIAL' ||
    body === 'FULL_DUPLEX_STREAMED' ||
    (body === 'BUFFERED' && header === 'SKIP')
  )
}

/** Lowercase keys, no hop-by-hop headers (Envoy's codec consumes them; Host becomes :authority). */
function normalize(headers: Array<[string, string]>): HeaderList {
  return headers.map(([k, v]) => [k.toLowerCase(), v] as [string, string]).filter(([k]) => !HOP_BY_HOP.has(k))
}

function toProtoHeaderMap(headers: HeaderList) {
  return { headers: headers.map(([key, value]) => ({ key, raw_value: Buffer.from(value, 'utf8') })) }
}

function responseHeadersOf(response: ResponseSpec): HeaderList {
  return [[':status', String(response.status)], ...normalize(response.headers)]
}

function attributesFor(
  names: string[],
  spec: HttpExchangeSpec | LiveExchangeSpec,
  status: number | undefined,
  requestId: string,
): Record<string, unknown> {
  const known: Record<string, unknown> = {
    'request.path': spec.request.path,
    'request.method': spec.request.method,
    'request.host': spec.request.authority,
    'request.id': requestId,
    'source.address': '127.0.0.1:40000',
    'response.code': status,
  }
  const out: Record<string, unknown> = {}
  for (const name of names) if (known[name] !== undefined) out[name] = known[name]
  return out
}
