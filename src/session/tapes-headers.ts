/**
 * Reader of the `x-tapes-*` session envelope headers, with the wire rules of papercomputeco/tapes:
 * percent-encoded cwd and name, base64url JSON metadata, an 8 KiB budget that sheds metadata first.
 */
import type { HeaderMap } from '../exchange.js'
import { type Checked, checkHarnessId, checkIdentifier, checkText, rejection } from './identifiers.js'

export const TAPES_HEADER_PREFIX = 'x-tapes-'
export const TAPES_HEADERS = {
  harnessId: 'x-tapes-harness-id',
  harnessSessionId: 'x-tapes-harness-session-id',
  harnessVersion: 'x-tapes-harness-version',
  cwd: 'x-tapes-cwd',
  name: 'x-tapes-session-name',
  parentHarnessSessionId: 'x-tapes-parent-harness-session-id',
  /** sessiontap's addition: the parent's own harness, for forks across harnesses. */
  parentHarnessId: 'x-tapes-parent-harness-id',
  metadata: 'x-tapes-harness-metadata',
} as const

export const TAPES_HEADER_BUDGET_BYTES = 8 * 1024
export const TAPES_METADATA_MAX_BYTES = 4 * 1024
const MAX_PATH_LENGTH = 4096

export interface TapesEnvelope {
  harnessId: string | null
  harnessSessionId: string | null
  harnessVersion: string | null
  cwd: string | null
  name: string | null
  parentHarnessSessionId: string | null
  parentHarnessId: string | null
  metadata: Record<string, unknown> | null
}

const EMPTY: TapesEnvelope = {
  harnessId: null,
  harnessSessionId: null,
  harnessVersion: null,
  cwd: null,
  name: null,
  parentHarnessSessionId: null,
  parentHarnessId: null,
  metadata: null,
}

function tapesHeaderBytes(headers: HeaderMap, skip: string | null): number {
  let total = 0
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(TAPES_HEADER_PREFIX) && name !== skip) {
      total += Buffer.byteLength(name) + Buffer.byteLength(value)
    }
  }
  return total
}

/**
 * Go's url.PathUnescape: `%XX` decoded (UTF-8), `+` kept. A malformed escape keeps the raw value;
 * bytes that are not UTF-8 return null.
 */
export function pathUnescape(value: string): string | null {
  if (!value.includes('%')) return value
  if (/%(?![0-9A-Fa-f]{2})/.test(value)) return value
  const bytes: number[] = []
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '%') {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(value[i]!, 'utf8'))
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes))
  } catch {
    return null
  }
}

const BASE64URL_UNPADDED = /^[A-Za-z0-9_-]*$/

/** base64url (no padding) of a JSON object of at most 4 KiB. */
export function decodeMetadata(
  value: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  if (!BASE64URL_UNPADDED.test(value) || value.length % 4 === 1)
    return { ok: false, reason: 'invalid_base64' }
  const raw = Buffer.from(value, 'base64url')
  if (raw.length > TAPES_METADATA_MAX_BYTES) return { ok: false, reason: 'too_large' }
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw))
  } catch {
    return { ok: false, reason: 'invalid_json' }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'not_an_object' }
  }
  return { ok: true, value: parsed as Record<string, unknown> }
}

/**
 * Reads the envelope headers. Refused values become null and are reported through `rejected`; the
 * turn itself is never refused. Over the total budget, metadata goes first, then the whole envelope.
 */
export function readTapesHeaders(headers: HeaderMap, rejected: string[]): TapesEnvelope {
  let skipMetadata = false
  if (tapesHeaderBytes(headers, null) > TAPES_HEADER_BUDGET_BYTES) {
    if (headers[TAPES_HEADERS.metadata] !== undefined) {
      rejected.push(rejection(`header:${TAPES_HEADERS.metadata}`, 'over_total_budget'))
      skipMetadata = true
    }
    if (tapesHeaderBytes(headers, TAPES_HEADERS.metadata) > TAPES_HEADER_BUDGET_BYTES) {
      rejected.push(rejection('header:x-tapes-*', 'over_total_budget'))
      return EMPTY
    }
  }

  const read = (
    name: string,
    check: (value: string) => Checked,
    decode = (v: string): string | null => v,
  ) => {
    const raw = headers[name]
    if (raw === undefined || raw === '') return null // an empty header is the same as none
    const decoded = decode(raw)
    const checked: Checked = decoded === null ? { ok: false, reason: 'invalid_utf8' } : check(decoded)
    if (checked.ok) return checked.value
    rejected.push(rejection(`header:${name}`, checked.reason))
    return null
  }
  const checkPath = (value: string) => checkText(value, MAX_PATH_LENGTH)

  let metadata: Record<string, unknown> | null = null
  const rawMetadata = headers[TAPES_HEADERS.metadata]
  if (!skipMetadata && rawMetadata !== undefined && rawMetadata !== '') {
    const decoded = decodeMetadata(rawMetadata)
    if (decoded.ok) metadata = decoded.value
    else rejected.push(rejection(`header:${TAPES_HEADERS.metadata}`, decoded.reason))
  }

  return {
    harnessId: read(TAPES_HEADERS.harnessId, checkHarnessId),
    harnessSessionId: read(TAPES_HEADERS.harnessSessionId, checkIdentifier),
    harnessVersion: read(TAPES_HEADERS.harnessVersion, (v) => checkText(v)),
    cwd: read(TAPES_HEADERS.cwd, checkPath, pathUnescape),
    name: read(TAPES_HEADERS.name, (v) => checkText(v), pathUnescape),
    parentHarnessSessionId: read(TAPES_HEADERS.parentHarnessSessionId, checkIdentifier),
    parentHarnessId: read(TAPES_HEADERS.parentHarnessId, checkHarnessId),
    metadata,
  }
}
