/**
 * Block projection: the one place that defines the JSON shape of a content block as it is hashed.
 * Field names follow tapes' `llm.ContentBlock` so conversations without harness noise hash alike.
 */
import { hash } from 'node:crypto'
import type { ContentBlock } from '../providers/types.js'
import { projectText } from './text-projection.js'

interface ProjectedBase {
  /** Always present: tapes' Go encoder (json/v2) emits `false` under `omitempty`. */
  is_error: boolean
}

export type ProjectedBlock =
  | (ProjectedBase & { type: 'text'; text: string })
  | (ProjectedBase & { type: 'thinking'; thinking: string })
  | (ProjectedBase & {
      type: 'image'
      image_url?: string
      image_base64?: string
      media_type?: string
    } & Partial<PayloadReference>)
  | (ProjectedBase & { type: 'tool_use'; tool_use_id?: string; tool_name?: string; tool_input?: unknown })
  | (ProjectedBase & {
      type: 'tool_result'
      tool_result_id?: string
      tool_output?: string
      /** Non-text parts of a tool result (images…), projected the same way. */
      content?: ProjectedBlock[]
    })
  | (ProjectedBase & {
      type: 'document'
      document_url?: string
      document_base64?: string
      document_text?: string
      file_id?: string
      media_type?: string
      title?: string
    } & Partial<PayloadReference>)

/** Stands for a base64 payload too large to keep inline: the SHA-256 (hex) and length of its bytes. */
export interface PayloadReference {
  sha256: string
  bytes: number
}

/** Base64 payloads longer than this (in characters) are hashed and stored as a PayloadReference. */
export const INLINE_PAYLOAD_MAX = 8 * 1024

/** The hashed body of one node (everything but the parent link). */
export interface ProjectedMessage {
  type: 'message'
  role: string
  content: ProjectedBlock[]
}

type BlockOf<T extends ProjectedBlock['type']> = Extract<ProjectedBlock, { type: T }>
/** A block under construction: is_error is set last, so stored nodes keep their key order (type first, is_error last). */
type Building<T extends ProjectedBlock['type']> = Omit<BlockOf<T>, 'is_error'> & { is_error?: boolean }

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Drops zero values (null, false, "", 0, []) recursively through objects; an object left empty is
 * dropped too. Arrays are kept whole and not recursed into (as tapes does). Returns undefined for
 * a zero value, so a model's `replace_all: false` and a client that omits it hash the same.
 */
export function pruneZeroValues(value: unknown): unknown {
  if (value === null || value === undefined || value === false || value === '' || value === 0)
    return undefined
  if (Array.isArray(value)) return value.length === 0 ? undefined : value
  if (!isPlainObject(value)) return value
  const out: Record<string, unknown> = {}
  let empty = true
  for (const key of Object.keys(value)) {
    const pruned = pruneZeroValues(value[key])
    if (pruned !== undefined) {
      out[key] = pruned
      empty = false
    }
  }
  return empty ? undefined : out
}

/** The decoded bytes' reference; the same file hashes alike however its base64 was wrapped. */
function payloadReference(base64: string): PayloadReference {
  const bytes = Buffer.from(base64, 'base64')
  return { sha256: hash('sha256', bytes, 'hex'), bytes: bytes.length }
}

/** A base64 payload as its inline field, or as a reference when it is large. */
function payloadFields(field: string, base64: string | undefined): Record<string, string> | PayloadReference {
  if (!base64) return {}
  return base64.length > INLINE_PAYLOAD_MAX ? payloadReference(base64) : { [field]: base64 }
}

/** Tool output as one string: text parts joined with "\n" (tapes' Anthropic rule), then projected. */
function projectToolResult(block: Extract<ContentBlock, { type: 'tool_result' }>): ProjectedBlock {
  let text: string
  let others: ProjectedBlock[] = []
  if (typeof block.output === 'string') text = block.output
  else {
    // One walk over the parts: texts are joined, the rest projected as blocks of their own.
    const texts: string[] = []
    const rest: ContentBlock[] = []
    for (const part of block.output) {
      if (part.type === 'text') texts.push(part.text)
      else rest.push(part)
    }
    text = texts.join('\n')
    others = projectBlocks(rest)
  }
  // Optional strings are set only when non-empty (Go's `omitempty`); the hashed object never holds undefined.
  const out: Building<'tool_result'> = { type: 'tool_result' }
  if (block.toolUseId) out.tool_result_id = block.toolUseId
  const output = projectText(text)
  if (output) out.tool_output = output
  if (others.length > 0) out.content = others
  out.is_error = block.isError
  return out as BlockOf<'tool_result'>
}

/** One block's hashed form, or null when the block carries nothing after projection. */
function projectBlock(block: ContentBlock): ProjectedBlock | null {
  switch (block.type) {
    case 'text': {
      // Dropped when empty, including blocks that arrived empty: a stream can open an empty text
      // block that the client never echoes back, and continuity must not depend on that.
      const text = projectText(block.text)
      return text === '' ? null : { type: 'text', text, is_error: false }
    }
    case 'thinking':
      // The signature is transport (clients may strip it); display-omitted thinking is empty text
      // plus a signature, so it carries nothing to hash.
      return block.text.trim() === '' ? null : { type: 'thinking', thinking: block.text, is_error: false }
    case 'image': {
      const out: Building<'image'> = { type: 'image' }
      if (block.url) out.image_url = block.url
      Object.assign(out, payloadFields('image_base64', block.data))
      if (block.mediaType) out.media_type = block.mediaType
      out.is_error = false
      return out as BlockOf<'image'>
    }
    case 'document': {
      const out: Building<'document'> = { type: 'document' }
      if (block.url) out.document_url = block.url
      Object.assign(out, payloadFields('document_base64', block.data))
      if (block.text) out.document_text = block.text
      if (block.fileId) out.file_id = block.fileId
      if (block.mediaType) out.media_type = block.mediaType
      if (block.title) out.title = block.title
      out.is_error = false
      return out as BlockOf<'document'>
    }
    case 'redacted_thinking':
      // Encrypted reasoning is opaque like a signature: nothing in it to hash.
      return null
    case 'tool_use': {
      const out: Building<'tool_use'> = { type: 'tool_use' }
      if (block.id) out.tool_use_id = block.id
      if (block.name) out.tool_name = block.name
      const input = pruneZeroValues(block.input)
      if (input !== undefined) out.tool_input = input
      out.is_error = false
      return out as BlockOf<'tool_use'>
    }
    case 'tool_result':
      return projectToolResult(block)
  }
}

/** Projects blocks in order, dropping the ones that become empty. */
export function projectBlocks(blocks: readonly ContentBlock[]): ProjectedBlock[] {
  const out: ProjectedBlock[] = []
  for (const block of blocks) {
    const projected = projectBlock(block)
    if (projected !== null) out.push(projected)
  }
  return out
}

/** The hashed body of a message node. */
export function projectMessage(role: string, blocks: readonly ContentBlock[]): ProjectedMessage {
  return { type: 'message', role, content: projectBlocks(blocks) }
}

// Claude Code sends billing attribution as the first system block; its cc_version suffix changes with
// the CLI version, which is transport, not conversation.
const TRANSPORT_SYSTEM_BLOCK = /^x-anthropic-billing-header:/

/** The system prompt's hashed form: blocks that only carry transport metadata are left out. */
export function projectSystem(blocks: readonly ContentBlock[]): ProjectedBlock[] {
  return projectBlocks(
    blocks.filter((block) => !(block.type === 'text' && TRANSPORT_SYSTEM_BLOCK.test(block.text))),
  )
}
