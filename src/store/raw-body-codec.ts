/**
 * Compression of the raw request and response bodies kept for the raw view. Brotli at quality 4:
 * on the recorded Claude Code session it compresses as well as gzip -6 (to about 35%) in two thirds
 * of the time. zstd would be as good, but Node 20's zlib cannot write it and the zstd package here
 * (fzstd) only decompresses.
 */
import zlib from 'node:zlib'
import { LIMITS } from '../limits.js'
import type { RawBodies, RawBody } from '../session/turn.js'

/** Decoded bytes kept per body; a longer body keeps its first RAW_BODY_MAX_BYTES, flagged truncated. */
export const RAW_BODY_MAX_BYTES = LIMITS.rawBodyBytes

export const RAW_BODY_ENCODING = 'br' satisfies RawBodies['encoding']

const BROTLI_QUALITY = 4

/**
 * Compresses a decoded body (cut to the cap). `whole`: the capture and its decoding got the body to
 * its end. The result owns its memory (never a slice of Node's shared pool), so it can be transferred.
 */
export function compressRawBody(decoded: Uint8Array, whole: boolean): RawBody {
  const kept = decoded.subarray(0, RAW_BODY_MAX_BYTES)
  const compressed = zlib.brotliCompressSync(kept, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: kept.length,
    },
  })
  return {
    bytes: new Uint8Array(compressed),
    size: decoded.length,
    truncated: !whole || kept.length < decoded.length,
  }
}

export function decompressRawBody(bytes: Uint8Array, encoding: string): Buffer {
  if (encoding !== RAW_BODY_ENCODING) throw new Error(`unknown raw body encoding ${encoding}`)
  return zlib.brotliDecompressSync(bytes)
}
