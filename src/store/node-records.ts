/**
 * A turn's nodes as the one jsonb parameter of the nodes insert, encoded once where the turn is
 * built (a parse worker) so the thread that answers Envoy never stringifies message content. The
 * bytes are Postgres's binary jsonb form (a version byte, then JSON text): node-postgres sends a
 * Buffer as it is, so a 10 MB history costs the main thread a memory copy, not a JSON pass.
 */
import type { ChainNode } from '../session/turn.js'
import { storableJson } from './pg-text.js'

/** jsonb's binary format version (jsonb_recv). */
const JSONB_VERSION = 1

/**
 * Encodes nodes in chain order. The buffer owns its memory (never a slice of Node's shared pool),
 * so its ArrayBuffer can be transferred between threads.
 */
export function encodeNodes(nodes: readonly ChainNode[]): Buffer {
  const json = storableJson(nodes)
  const out = Buffer.allocUnsafeSlow(1 + Buffer.byteLength(json))
  out[0] = JSONB_VERSION
  out.write(json, 1, 'utf8')
  return out
}

export function decodeNodes(encoded: Uint8Array): ChainNode[] {
  return JSON.parse(Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('utf8', 1))
}

/** The parameter for `$n::jsonb`: binary for node-postgres, JSON text for drivers that take only text. */
export function nodesParameter(encoded: Uint8Array, binary: boolean): Buffer | string {
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)
  return binary ? bytes : bytes.toString('utf8', 1)
}
