/**
 * The session transfer document: one session (its row, its turns, the nodes on its chains) as JSON,
 * with a format name, a schema version and a SHA-256 checksum. Shared by export and import.
 *
 * checksum = "sha256:" + lowercase hex SHA-256 of the UTF-8 bytes of the RFC 8785 (JSON
 * Canonicalization Scheme) serialization of `{format, version, payload}`: the whole document but
 * the checksum field, so neither the data nor the version can change unnoticed.
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { canonicalJson } from '../session/canonical-json.js'
import { isUuid } from '../session/identifiers.js'
import { RAW_BODY_ENCODING } from '../store/raw-body-codec.js'

export const TRANSFER_FORMAT = 'sessiontap-session'
export const TRANSFER_VERSION = 1

/** Why a document is refused; the message is meant for the person who ran the import. */
export class TransferError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TransferError'
  }
}

const uuid = z.string().refine(isUuid, 'a UUID')
/** A timestamptz as Postgres writes it in JSON (microseconds kept). */
const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'a timestamp')
/** numeric columns travel as their exact text. */
const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal number')
const count = z.number().int().min(0)
const text = z.string().nullable()

/** One sessions row; org_id names the org everything in the document belongs to. */
export const sessionRowSchema = z.strictObject({
  id: uuid,
  org_id: uuid,
  auth_subject: text,
  harness_id: z.string().min(1),
  harness_session_id: z.string().min(1),
  session_source: text,
  name: text,
  cwd: text,
  harness_version: text,
  parent_session_id: uuid.nullable(),
  is_placeholder: z.boolean(),
  harness_metadata: z.record(z.string(), z.unknown()),
  started_at: timestamp,
  last_seen_at: timestamp,
  ended_at: timestamp.nullable(),
  end_reason: z.enum(['client', 'idle']).nullable(),
  turn_count: count,
  error_count: count,
  total_input_tokens: count,
  total_output_tokens: count,
  total_cache_read_tokens: count,
  total_cache_creation_tokens: count,
  total_reasoning_tokens: count,
  total_cost_usd: decimal,
  last_model: text,
  loop_strikes: count,
  loop_detected_at: timestamp.nullable(),
  created_at: timestamp,
})

/** One turns row without org_id and session_id (those of the document's session). */
export const turnRowSchema = z.strictObject({
  id: uuid,
  turn_index: count,
  request_id: z.string().min(1),
  thread_id: text,
  provider: z.string(),
  api: z.string(),
  model: text,
  response_model: text,
  status_code: z.number().int().nullable(),
  is_streaming: z.boolean(),
  is_complete: z.boolean(),
  stop_reason: text,
  input_tokens: count.nullable(),
  output_tokens: count.nullable(),
  cache_read_tokens: count.nullable(),
  cache_creation_tokens: count.nullable(),
  reasoning_tokens: count.nullable(),
  /** These three are absent in documents written before usage details were stored. */
  cache_creation_5m_tokens: count.nullable().optional(),
  cache_creation_1h_tokens: count.nullable().optional(),
  web_search_requests: count.nullable().optional(),
  usage_status: z.string(),
  cost_usd: decimal.nullable(),
  latency_ms: z.number().int().nullable(),
  ttft_ms: z.number().int().nullable(),
  /** Absent in documents written before provider timings were stored. */
  provider_timing: z
    .strictObject({
      totalNs: z.number().min(0).optional(),
      loadNs: z.number().min(0).optional(),
      promptEvalNs: z.number().min(0).optional(),
      evalNs: z.number().min(0).optional(),
    })
    .nullable()
    .optional(),
  request_leaf_hash: text,
  response_hash: text,
  /** Absent in documents written before choices were recorded. */
  choice_hashes: z.array(z.string()).nullable().optional(),
  provider_response_id: text,
  error_type: text,
  error_message: text,
  started_at: timestamp,
  created_at: timestamp,
  loop_hash: text,
  /** A subagent call's parent turn (same session); absent in documents written before it was stored. */
  parent_turn_id: uuid.nullable().optional(),
})

/** One nodes row without org_id; session_id is the session that first wrote it (maybe another one). */
export const nodeRowSchema = z.strictObject({
  hash: z.string().min(1),
  parent_hash: text,
  role: z.string(),
  content: z.unknown(),
  session_id: uuid,
  created_at: timestamp,
})

/** Standard base64 of bytes (the stored, compressed form travels as it is). */
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')

/** One turn_bodies row without org_id: a turn's original bodies, compressed as stored (`encoding`). */
export const bodiesRowSchema = z.strictObject({
  turn_id: uuid,
  encoding: z.enum([RAW_BODY_ENCODING]),
  request: base64,
  request_size: count,
  request_truncated: z.boolean(),
  response: base64,
  response_size: count,
  response_truncated: z.boolean(),
})

export const payloadSchema = z.strictObject({
  exported_at: timestamp,
  session: sessionRowSchema,
  /** The parent session's natural key, so an import can find the parent under another id. */
  parent: z.strictObject({ harness_id: z.string(), harness_session_id: z.string() }).nullable(),
  /** In turn_index order. */
  turns: z.array(turnRowSchema),
  /** Every node on the chains of the session's turns, by hash. */
  nodes: z.array(nodeRowSchema),
  /** The raw bodies of the turns that have them, in turn order; absent in documents written before they were stored. */
  bodies: z.array(bodiesRowSchema).optional(),
})

export type SessionRow = z.infer<typeof sessionRowSchema>
export type TurnRow = z.infer<typeof turnRowSchema>
export type NodeRow = z.infer<typeof nodeRowSchema>
export type BodiesRow = z.infer<typeof bodiesRowSchema>
export type TransferPayload = z.infer<typeof payloadSchema>

export interface SessionDocument {
  format: typeof TRANSFER_FORMAT
  version: typeof TRANSFER_VERSION
  checksum: string
  payload: TransferPayload
}

export function documentChecksum(format: string, version: number, payload: unknown): string {
  const canonical = canonicalJson({ format, version, payload })
  return `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`
}

export function createDocument(payload: TransferPayload): SessionDocument {
  return {
    format: TRANSFER_FORMAT,
    version: TRANSFER_VERSION,
    checksum: documentChecksum(TRANSFER_FORMAT, TRANSFER_VERSION, payload),
    payload,
  }
}

export function serializeDocument(document: SessionDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`
}

const envelopeSchema = z.object({ format: z.unknown(), version: z.unknown(), checksum: z.unknown() })

/**
 * Parses and verifies a document: its format and version first (a newer version may checksum
 * differently), then the checksum over the payload as written, then the payload's shape.
 */
export function parseDocument(json: string): SessionDocument {
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch (err) {
    throw new TransferError(`not a sessiontap session export: invalid JSON (${(err as Error).message})`)
  }
  const head = envelopeSchema.safeParse(raw)
  if (!head.success || head.data.format !== TRANSFER_FORMAT) {
    throw new TransferError(`not a sessiontap session export: "format" is not "${TRANSFER_FORMAT}"`)
  }
  const { version, checksum } = head.data
  if (version !== TRANSFER_VERSION) {
    throw new TransferError(
      `unsupported export version ${JSON.stringify(version)}: this sessiontap reads version ${TRANSFER_VERSION}`,
    )
  }
  const payload = (raw as { payload?: unknown }).payload
  const expected = documentChecksum(TRANSFER_FORMAT, TRANSFER_VERSION, payload ?? null)
  if (checksum !== expected) {
    throw new TransferError(
      `checksum mismatch: the file was changed or damaged after export (file says ${JSON.stringify(checksum)}, content hashes to ${expected})`,
    )
  }
  const parsed = payloadSchema.safeParse(payload)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TransferError(
      `invalid export payload at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    )
  }
  return { format: TRANSFER_FORMAT, version: TRANSFER_VERSION, checksum: expected, payload: parsed.data }
}
