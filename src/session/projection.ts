/**
 * Block projection: the one place that defines the JSON shape of a content block as it is hashed.
 * Field names follow tapes' `llm.ContentBlock` so conversations without harness noise hash alike.
 */
import type { ContentBlock } from '../providers/types.js'
import { projectText } from './text-projection.js'

interface ProjectedBase {
  /** Always present: tapes' Go encoder (json/v2) emits `false` under `omitempty`. */
  is_error: boolean
}

export type ProjectedBlock =
  | (ProjectedBase & { type: 'text'; text: string })
  | (ProjectedBase & { type: 'thinking'; thinking: string })
  | (ProjectedBase & { type: 'image'; image_url?: string; image_base64?: string; media_type?: string })
  | (ProjectedBase & { type: 'tool_use'; tool_use_id?: string; tool_name?: string; tool_input?: unknown })
  | (ProjectedBase & {
      type: 'tool_result'
      tool_result_id?: string
      tool_output?: string
      /** Non-text parts of a tool result (images…), projected the same way. */
      content?: ProjectedBlock[]
    })

/** The hashed body of one node (everything but the parent link). */
export interface ProjectedMessage {
  type: 'message'
  role: string
  content: ProjectedBlock[]
}

/** Keeps only non-empty strings, mirroring Go's `omitempty` on string fields. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

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
  for (const [key, inner] of Object.entries(value)) {
    const pruned = pruneZeroValues(inner)
    if (pruned !== undefined) out[key] = pruned
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/** Tool output as one string: text parts joined with "\n" (tapes' Anthropic rule), then projected. */
function projectToolResult(block: Extract<ContentBlock, { type: 'tool_result' }>): ProjectedBlock {
  const parts =
    typeof block.output === 'string' ? [{ type: 'text' as const, text: block.output }] : block.output
  const text = parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n')
  const others = projectBlocks(parts.filter((part) => part.type !== 'text'))
  return {
    type: 'tool_result',
    tool_result_id: nonEmpty(block.toolUseId),
    tool_output: nonEmpty(projectText(text)),
    content: others.length > 0 ? others : undefined,
    is_error: block.isError,
  }
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
    case 'image':
      return {
        type: 'image',
        image_url: nonEmpty(block.url),
        image_base64: nonEmpty(block.data),
        media_type: nonEmpty(block.mediaType),
        is_error: false,
      }
    case 'tool_use':
      return {
        type: 'tool_use',
        tool_use_id: nonEmpty(block.id),
        tool_name: nonEmpty(block.name),
        tool_input: pruneZeroValues(block.input),
        is_error: false,
      }
    case 'tool_result':
      return projectToolResult(block)
  }
}

/** Projects blocks in order, dropping the ones that become empty. */
export function projectBlocks(blocks: readonly ContentBlock[]): ProjectedBlock[] {
  return blocks.flatMap((block) => {
    const projected = projectBlock(block)
    return projected === null ? [] : [withoutUndefined(projected)]
  })
}

// Optional fields are set to undefined above for readability; the hashed object must not carry them.
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as T
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
