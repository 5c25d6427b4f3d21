/**
 * Content-encoding decoding of captured bodies (gzip, deflate, br, zstd, and chains of them).
 * Synchronous on purpose: it runs where the turn is built, off the ext_proc reply path. A truncated
 * stream yields the bytes it holds plus an error; output is capped so a compression bomb cannot
 * exhaust memory.
 */
import zlib from 'node:zlib'
import { Decompress as ZstdDecompress } from 'fzstd'
import { LIMITS } from '../limits.js'

export interface DecodedBody {
  bytes: Buffer
  /** Why decoding stopped early (truncated stream, unknown encoding, output cap), if it did. */
  error?: string
  /** Decoding stopped at the output cap: a compression bomb, or a body larger than the limits allow. */
  overLimit?: boolean
}

const OVER_LIMIT = 'decoded body exceeds the output cap'

export const DEFAULT_MAX_DECODED_BYTES = LIMITS.decodedBodyBytes

type SyncDecoder = (input: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions) => Buffer

/**
 * Strict decode first; a truncated stream makes zlib throw, and then a second pass with a sync
 * flush returns what the stream held. The double work happens only for broken bodies.
 */
function decodeZlib(input: Buffer, decode: SyncDecoder, flush: number, max: number): DecodedBody {
  try {
    return { bytes: decode(input, { maxOutputLength: max }) }
  } catch (err) {
    // Past the cap there is nothing worth a second pass: the body is cut off here.
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return { bytes: Buffer.alloc(0), error: OVER_LIMIT, overLimit: true }
    }
    const reason =
      (err as NodeJS.ErrnoException).code === 'Z_BUF_ERROR'
        ? 'truncated compressed stream'
        : (err as Error).message
    try {
      return { bytes: decode(input, { finishFlush: flush, maxOutputLength: max }), error: reason }
    } catch {
      return { bytes: Buffer.alloc(0), error: reason }
    }
  }
}

function decodeOne(input: Buffer, encoding: string, max: number): DecodedBody {
  const { Z_SYNC_FLUSH, BROTLI_OPERATION_FLUSH } = zlib.constants
  switch (encoding) {
    case 'identity':
      return { bytes: input }
    case 'gzip':
    case 'x-gzip':
      return decodeZlib(input, zlib.gunzipSync, Z_SYNC_FLUSH, max)
    case 'deflate':
      // HTTP "deflate" is zlib-wrapped, but some servers send raw deflate: look at the header byte.
      return decodeZlib(
        input,
        input[0] !== undefined && (input[0] & 0x0f) === 8 ? zlib.inflateSync : zlib.inflateRawSync,
        Z_SYNC_FLUSH,
        max,
      )
    case 'br':
      return decodeZlib(input, zlib.brotliDecompressSync, BROTLI_OPERATION_FLUSH, max)
    case 'zstd':
      return decodeZstd(input, max)
    default:
      return { bytes: input, error: `unsupported content-encoding: ${encoding}` }
  }
}

function decodeZstd(input: Buffer, max: number): DecodedBody {
  const parts: Uint8Array[] = []
  let size = 0
  let error: string | undefined
  let ended = false
  const stream = new ZstdDecompress((chunk: Uint8Array, final?: boolean) => {
    size += chunk.length
    if (size > max) throw new Error(OVER_LIMIT)
    parts.push(chunk)
    if (final) ended = true
  })
  try {
    stream.push(input, true)
  } catch (err) {
    if ((err as Error).message === OVER_LIMIT)
      return { bytes: Buffer.alloc(0), error: OVER_LIMIT, overLimit: true }
    error = `zstd decode failed: ${(err as Error).message}`
  }
  if (!error && !ended) error = 'truncated compressed stream'
  return { bytes: Buffer.concat(parts), ...(error ? { error } : {}) }
}

/** The most a body of `compressedBytes` may decode to: the absolute cap, and the ratio above a floor. */
export function decodedCap(compressedBytes: number, maxBytes = DEFAULT_MAX_DECODED_BYTES): number {
  const byRatio = Math.max(LIMITS.decodedBodyFloorBytes, compressedBytes * LIMITS.decodedBodyRatio)
  return Math.min(maxBytes, byRatio)
}

/**
 * Decodes a body whose `content-encoding` may list several codings (applied in order, so undone in
 * reverse), each step capped by decodedCap of the captured size.
 */
export function decodeBody(
  chunks: readonly Buffer[],
  encoding: string | undefined,
  maxBytes = DEFAULT_MAX_DECODED_BYTES,
): DecodedBody {
  let bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
  if (!encoding) return { bytes }
  const cap = decodedCap(bytes.length, maxBytes)
  const codings = encoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c.length > 0)
  for (const coding of codings.reverse()) {
    const step = decodeOne(bytes, coding, cap)
    bytes = step.bytes
    if (step.error) return step
  }
  return { bytes }
}
