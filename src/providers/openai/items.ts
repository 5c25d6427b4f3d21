/**
 * OpenAI Responses items (input and output alike) as normalized blocks. A client sends a response's
 * output items back as input in the next turn, so one function maps both and the chain hashes line
 * up. Items the model or the server produced are the assistant's; the outputs a client returns for
 * its own tools (function, custom, computer, local shell, apply_patch, shell) are the tool's.
 *
 * Hosted tools run inside the response, so their item is both the call and its result: a `tool_use`
 * named after the item type with the call's inputs, then, when the item carries any output or
 * failed, a `tool_result` with the same id. Item types not known here are kept the same way
 * (type + fields as JSON), never dropped. `id`, `status`, `created_by`, `caller` and `encrypted_*`
 * fields are transport and are left out.
 */
import { z } from 'zod'
import { parseToolArguments, withoutOpaqueFields } from '../content.js'
import { isRecord } from '../shape.js'
import type { ContentBlock, Role } from '../types.js'
import { imageFromUrl, openAiContent, openAiContentToBlocks } from './content.js'

const knownItem = z.looseObject({
  type: z.string().nullish(),
  id: z.string().nullish(),
  role: z.string().nullish(),
  /** Message parts, or a reasoning item's reasoning_text parts. */
  content: openAiContent,
  call_id: z.string().nullish(),
  name: z.string().nullish(),
  /** JSON text for function and MCP calls; an object for tool_search_call. */
  arguments: z.unknown().optional(),
  /** custom_tool_call input is free text. */
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  summary: z.array(z.looseObject({ text: z.string().nullish() })).nullish(),
  encrypted_content: z.string().nullish(),
})
export type Item = z.infer<typeof knownItem>

/**
 * Any item object. One whose known fields have an unexpected shape (a future `content`, say) is kept
 * whole as an `unparsed_item` instead of failing the request or response it is in.
 */
export const item = z.record(z.string(), z.unknown()).transform((value): Item => {
  const parsed = knownItem.safeParse(value)
  if (parsed.success) return parsed.data
  const id =
    typeof value.call_id === 'string' ? value.call_id : typeof value.id === 'string' ? value.id : null
  const role = typeof value.role === 'string' ? value.role : null
  return { type: 'unparsed_item', id, role, item: value }
})

export interface Placed {
  role: Role
  blocks: ContentBlock[]
}

/** Item fields that identify or track an item rather than say anything. */
const TRANSPORT_FIELDS = ['type', 'id', 'call_id', 'status', 'created_by', 'caller']

/** The item's own fields minus transport, `encrypted_*` fields and the `omit`ted ones. */
function fieldsOf(it: Item, omit: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(withoutOpaqueFields(it) as Record<string, unknown>))
    if (!TRANSPORT_FIELDS.includes(key) && !omit.includes(key)) out[key] = value
  return out
}

const json = (value: unknown): string => JSON.stringify(value ?? null)

function toolOutput(value: unknown): string | ContentBlock[] {
  if (typeof value === 'string') return value
  const parts = openAiContent.safeParse(value)
  return parts.success ? openAiContentToBlocks(parts.data) : json(value)
}

const failed = (it: Item): boolean => it.status === 'failed'

/** A server-run call: its inputs, then its result when there is one. */
function hosted(
  it: Item,
  input: unknown,
  result?: { output: string | ContentBlock[]; isError?: boolean },
): Placed {
  const id = it.call_id ?? it.id ?? ''
  const blocks: ContentBlock[] = [{ type: 'tool_use', id, name: it.type ?? '', input }]
  const output = result?.output ?? ''
  const isError = result?.isError ?? failed(it)
  if (output.length > 0 || isError) blocks.push({ type: 'tool_result', toolUseId: id, output, isError })
  return { role: 'assistant', blocks }
}

/** The output a client returns for a call it ran. */
function clientOutput(it: Item, output: string | ContentBlock[], isError = false): Placed {
  return {
    role: 'tool',
    blocks: [{ type: 'tool_result', toolUseId: it.call_id ?? it.id ?? '', output, isError }],
  }
}

/** Reasoning: the summary (one block, carrying encrypted_content as its signature), then the full
 * reasoning text when the model returns it (`content` of reasoning_text parts). */
function reasoning(it: Item): Placed {
  const summary = (it.summary ?? []).map((s) => s.text ?? '').join('\n')
  const parts = Array.isArray(it.content) ? it.content : []
  const text = parts.flatMap((p) => (typeof p.text === 'string' ? [p.text] : [])).join('\n')
  const signed = (body: string): ContentBlock => ({
    type: 'thinking',
    text: body,
    ...(it.encrypted_content ? { signature: it.encrypted_content } : {}),
  })
  if (text === '') return { role: 'assistant', blocks: [signed(summary)] }
  if (summary === '') return { role: 'assistant', blocks: [signed(text)] }
  return { role: 'assistant', blocks: [signed(summary), { type: 'thinking', text }] }
}

const record = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {})
const args = (value: unknown): unknown => (typeof value === 'string' ? parseToolArguments(value) : value)

/** An MCP error: a string in older responses, an object ({type, code, message}) in newer ones. */
const mcpError = (value: unknown): string => (typeof value === 'string' ? value : json(value))

function codeInterpreterOutputs(value: unknown): ContentBlock[] {
  if (!Array.isArray(value)) return []
  const blocks: ContentBlock[] = []
  for (const output of value.map(record)) {
    if (output.type === 'logs' && typeof output.logs === 'string')
      blocks.push({ type: 'text', text: output.logs })
    else if (output.type === 'image' && typeof output.url === 'string') blocks.push(imageFromUrl(output.url))
    else blocks.push({ type: 'text', text: json(output) })
  }
  return blocks
}

function generatedImage(it: Item): ContentBlock[] {
  const result = (it as Record<string, unknown>).result
  if (typeof result !== 'string' || result === '') return []
  const format = (it as Record<string, unknown>).output_format
  return [
    { type: 'image', ...(typeof format === 'string' ? { mediaType: `image/${format}` } : {}), data: result },
  ]
}

/** A computer_call_output screenshot: an image URL (often a data URL) or an uploaded file. */
function screenshot(value: unknown): ContentBlock[] {
  const shot = record(value)
  if (typeof shot.image_url === 'string') return [imageFromUrl(shot.image_url)]
  if (typeof shot.file_id === 'string') return [{ type: 'image', url: `file:${shot.file_id}` }]
  return value == null ? [] : [{ type: 'text', text: json(value) }]
}

function messageRole(role: string | null | undefined): Role {
  if (role === 'system' || role === 'developer') return 'system'
  return role === 'assistant' ? 'assistant' : 'user'
}

/** Where an input or output item goes, and its blocks; null for items that carry no content. */
export function placeItem(it: Item): Placed | null {
  const type = it.type ?? (it.role ? 'message' : '')
  const raw = it as Record<string, unknown>
  switch (type) {
    case 'message': {
      // Annotations (url_citation, file_citation) are transport like Anthropic citations: not kept.
      const blocks = openAiContentToBlocks(it.content)
      return { role: messageRole(it.role), blocks }
    }
    case 'function_call':
      return {
        role: 'assistant',
        blocks: [
          {
            type: 'tool_use',
            id: it.call_id ?? '',
            name: it.name ?? '',
            input: parseToolArguments(typeof it.arguments === 'string' ? it.arguments : ''),
          },
        ],
      }
    case 'custom_tool_call':
      return {
        role: 'assistant',
        blocks: [{ type: 'tool_use', id: it.call_id ?? '', name: it.name ?? '', input: it.input }],
      }
    case 'reasoning':
      return reasoning(it)
    case 'function_call_output':
    case 'custom_tool_call_output':
      return clientOutput(it, toolOutput(it.output))
    case 'web_search_call': {
      const { sources, ...action } = record(raw.action)
      return hosted(it, action, { output: sources === undefined ? '' : json(sources) })
    }
    case 'file_search_call':
      return hosted(it, { queries: raw.queries }, { output: raw.results == null ? '' : json(raw.results) })
    case 'code_interpreter_call':
      return hosted(it, fieldsOf(it, ['outputs']), { output: codeInterpreterOutputs(raw.outputs) })
    case 'image_generation_call':
      return hosted(it, fieldsOf(it, ['result']), { output: generatedImage(it) })
    case 'mcp_call':
      return hosted(
        it,
        { ...fieldsOf(it, ['output', 'error']), arguments: args(it.arguments) },
        raw.error != null
          ? { output: mcpError(raw.error), isError: true }
          : { output: typeof it.output === 'string' ? it.output : '' },
      )
    case 'mcp_list_tools':
      return hosted(
        it,
        fieldsOf(it, ['tools', 'error']),
        raw.error != null
          ? { output: mcpError(raw.error), isError: true }
          : { output: raw.tools == null ? '' : json(raw.tools) },
      )
    case 'mcp_approval_request':
    case 'tool_search_call':
      return hosted(it, {
        ...fieldsOf(it),
        ...(it.arguments !== undefined ? { arguments: args(it.arguments) } : {}),
      })
    case 'mcp_approval_response':
      return {
        role: 'tool',
        blocks: [
          {
            type: 'tool_result',
            toolUseId: typeof raw.approval_request_id === 'string' ? raw.approval_request_id : '',
            output: json(fieldsOf(it, ['approval_request_id'])),
            isError: false,
          },
        ],
      }
    case 'computer_call_output':
      return clientOutput(it, screenshot(it.output))
    case 'local_shell_call_output':
    case 'apply_patch_call_output':
      return clientOutput(it, typeof it.output === 'string' ? it.output : '', failed(it))
    case 'shell_call_output':
      return clientOutput(it, it.output == null ? '' : json(it.output), failed(it))
    case 'item_reference':
      return null // points at a stored item by id: no content here
    default:
      if (type === '') return null
      // computer_call, local_shell_call, shell_call, apply_patch_call, compaction and item types
      // newer than this parser: the type and the item's fields, so nothing the item says is lost.
      // An item kept whole because its fields did not parse stays in the role it names (a message).
      if (it.type === 'unparsed_item' && it.role != null)
        return { ...hosted(it, fieldsOf(it, ['role'])), role: messageRole(it.role) }
      return hosted(it, fieldsOf(it))
  }
}
