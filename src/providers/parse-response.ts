/**
 * Response bodies: picks the framing (JSON, SSE, streamed JSON array, NDJSON) from the content type
 * and the first byte, feeds the records to the API's reducer and decides completeness. Never throws.
 */
import { type ErrorInfo, errorFromBody, errorFromText } from './errors.js'
import { JsonArrayDecoder } from './framing/json-array.js'
import { NdjsonDecoder } from './framing/ndjson.js'
import { SseDecoder } from './framing/sse.js'
import type { StreamReducer } from './provider.js'
import { parserFor } from './registry.js'
import type { Api, ParsedRequest, ParsedResponse } from './types.js'
import { missingUsage } from './usage.js'

export interface ResponseInput {
  api: Api
  status: number
  contentType: string | undefined
  /** Content-decoded response bytes. */
  body: Buffer
  request: ParsedRequest | null
}

export const FRAMINGS = ['json', 'sse', 'ndjson', 'json-array'] as const
export type Framing = (typeof FRAMINGS)[number]

function firstNonWhitespace(body: Buffer): number | undefined {
  for (const byte of body) if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return byte
  return undefined
}

export function chooseFraming(api: Api, contentType: string | undefined, body: Buffer): Framing {
  const type = contentType?.toLowerCase() ?? ''
  // An API that answers in JSON lines (Ollama) says so; one-line JSON is NDJSON too.
  if (type.includes('ndjson') || type.includes('jsonl') || parserFor(api).framing === 'ndjson')
    return 'ndjson'
  // The first byte outranks the label: an error body can come labelled as an event stream, and an
  // SSE body never opens with '[' or '{'.
  const first = firstNonWhitespace(body)
  if (first === 0x5b) return 'json-array' // '[': Gemini's streamed array
  if (first === 0x7b) return 'json'
  if (type.includes('text/event-stream')) return 'sse'
  // No usable content type: an SSE body opens with a field name or a comment.
  if (first === 0x64 || first === 0x65 || first === 0x3a) return 'sse'
  return 'json'
}

/** Feeds every record to the reducer; returns how many records were not valid JSON. */
function feed(framing: Exclude<Framing, 'json'>, body: Buffer, reducer: Pick<StreamReducer, 'push'>): number {
  let malformed = 0
  const onRecord = (event: string | undefined, data: string): void => {
    // Blank records are skipped; one that opens with '{' (nearly all) is not blank and needs no trim.
    if (data.charCodeAt(0) !== 0x7b && data.trim().length === 0) return
    if (data === '[DONE]') {
      reducer.push(event, data)
      return
    }
    let value: unknown
    try {
      value = JSON.parse(data)
    } catch {
      malformed++
      return
    }
    reducer.push(event, value)
  }
  const decoder =
    framing === 'sse'
      ? new SseDecoder((e) => onRecord(e.event, e.data))
      : framing === 'ndjson'
        ? new NdjsonDecoder((text) => onRecord(undefined, text))
        : new JsonArrayDecoder((text) => onRecord(undefined, text))
  decoder.push(body)
  decoder.end()
  return malformed
}

/** An error status's body in whatever framing it came (JSON, an SSE `error` event, ...), else its text. */
function errorResponse(api: Api, contentType: string | undefined, body: Buffer): ParsedResponse {
  const framing = chooseFraming(api, contentType, body)
  let error: ErrorInfo | null = null
  if (framing === 'json') {
    try {
      error = errorFromBody(JSON.parse(body.toString('utf8')))
    } catch {
      // not JSON: the text itself is the message
    }
  } else {
    feed(framing, body, {
      push(_event, value) {
        error ??= errorFromBody(value)
      },
    })
  }
  return emptyResponse(true, error ?? errorFromText(body.toString('utf8')))
}

/** Every error names a type, so error turns can be told apart: the body's, else `http_<status>`. */
function withType(error: ErrorInfo | null, status: number): ErrorInfo | null {
  return error && error.type === null ? { ...error, type: `http_${status}` } : error
}

/** A response with nothing but its error (an error status, or a parser that failed). */
function emptyResponse(complete: boolean, error: ErrorInfo | null): ParsedResponse {
  return {
    message: null,
    model: null,
    stopReason: null,
    providerResponseId: null,
    usage: missingUsage(),
    complete,
    error,
  }
}

/**
 * A stream is complete only when its API's terminal event arrived and no record was malformed;
 * a plain JSON body is complete when it parsed and had the API's shape.
 */
export function parseResponse(input: ResponseInput): ParsedResponse {
  try {
    const parsed = parseByStatus(input)
    return { ...parsed, error: withType(parsed.error, input.status) }
  } catch (err) {
    // A bug in a parser must not take the recorder down; it shows up as this error type.
    return emptyResponse(false, { type: 'sessiontap_parse_failure', message: (err as Error).message })
  }
}

/**
 * A stream is complete only when its API's terminal event arrived, no record was malformed and no
 * error came (an error event inside a 200 stream fails the turn); a plain JSON body is complete when
 * it parsed, had the API's shape and carried no error.
 */
function parseByStatus(input: ResponseInput): ParsedResponse {
  if (input.status >= 400) return errorResponse(input.api, input.contentType, input.body)
  const framing = chooseFraming(input.api, input.contentType, input.body)
  const reducer = parserFor(input.api).createReducer(framing === 'json' ? 'json' : 'stream')
  let malformed = 0
  let bodyError: ErrorInfo | null = null
  if (framing === 'json') {
    let value: unknown
    try {
      value = JSON.parse(input.body.toString('utf8'))
    } catch {
      malformed = 1
    }
    if (malformed === 0) {
      reducer.push(undefined, value)
      // An error object under a 200 that the API's shape had no place for (an Anthropic error body).
      bodyError = errorFromBody(value)
    }
  } else malformed = feed(framing, input.body, reducer)
  const { response, terminal } = reducer.finish()
  const error = response.error ?? bodyError
  return { ...response, error, complete: terminal && malformed === 0 && error === null }
}
