/**
 * Envoy header maps and protobuf Structs turned into plain values. Header values are octets: valid
 * UTF-8 is decoded as such (what clients send), anything else is kept escaped (`\xff`) so a
 * hostile value is stored legibly, never garbled. Credentials never leave this module.
 */
import type { HeaderMap } from '../exchange.js'
import type { ProtoHeaderMap, ProtoStruct, ProtoValue } from './messages.js'

/** Headers that carry credentials: never captured, never stored, never logged. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
  'x-paper-auth',
  'x-amz-security-token',
  'x-tapes-lifecycle-secret',
  'x-tapes-gateway-nonce',
])

export interface SplitHeaders {
  pseudo: Record<string, string>
  headers: HeaderMap
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** Printable ASCII as it is, every other byte as `\xHH`. */
function escapeBytes(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) {
    out +=
      byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`
  }
  return out
}

export function headerValue(h: { value?: string; raw_value?: Buffer | Uint8Array }): string {
  const raw = h.raw_value
  if (!raw || raw.length === 0) return h.value ?? ''
  // Nearly every value is ASCII: no decoder needed.
  if (raw.every((byte) => byte < 0x80))
    return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1')
  try {
    return UTF8.decode(raw)
  } catch {
    return escapeBytes(raw)
  }
}

/** Splits pseudo-headers from regular ones, lowercases keys, joins repeats, drops credentials. */
export function splitHeaders(map: ProtoHeaderMap | undefined): SplitHeaders {
  const pseudo: Record<string, string> = {}
  const headers: Record<string, string> = {}
  for (const h of map?.headers ?? []) {
    const key = (h.key ?? '').toLowerCase()
    if (key.length === 0) continue
    const value = headerValue(h)
    if (key.startsWith(':')) {
      pseudo[key] = value
      continue
    }
    if (CREDENTIAL_HEADERS.has(key)) continue
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value
  }
  return { pseudo, headers }
}

/** Query parameters that carry credentials (Gemini's `?key=`), removed from captured paths. */
const CREDENTIAL_QUERY_PARAMS = new Set(['key', 'api_key', 'api-key', 'access_token'])

export function redactPath(rawPath: string): string {
  const q = rawPath.indexOf('?')
  if (q < 0) return rawPath
  const kept = rawPath
    .slice(q + 1)
    .split('&')
    .filter(
      (pair) => !CREDENTIAL_QUERY_PARAMS.has(decodeURIComponentSafe(pair.split('=')[0] ?? '').toLowerCase()),
    )
  return kept.length > 0 ? `${rawPath.slice(0, q)}?${kept.join('&')}` : rawPath.slice(0, q)
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

export function structToJson(s: ProtoStruct | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = valueToJson(v)
  return out
}

function valueToJson(v: ProtoValue | undefined): unknown {
  if (!v) return null
  if (v.structValue !== undefined) return structToJson(v.structValue)
  if (v.listValue !== undefined) return (v.listValue.values ?? []).map(valueToJson)
  if (v.stringValue !== undefined) return v.stringValue
  if (v.numberValue !== undefined) return v.numberValue
  if (v.boolValue !== undefined) return v.boolValue
  return null
}

/** Builds a google.protobuf.Struct from plain JSON (proto-loader names the Value members in camelCase: numberValue, structValue, ...). */
export function jsonToStruct(obj: Record<string, unknown>): ProtoStruct {
  const fields: Record<string, ProtoValue> = {}
  for (const [k, v] of Object.entries(obj)) fields[k] = jsonToValue(v)
  return { fields }
}

function jsonToValue(v: unknown): ProtoValue {
  if (v === null || v === undefined) return { nullValue: 0 }
  if (typeof v === 'number') return { numberValue: v }
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  if (Array.isArray(v)) return { listValue: { values: v.map(jsonToValue) } }
  return { structValue: jsonToStruct(v as Record<string, unknown>) }
}
