/**
 * OpenAI Responses (.../responses). Input and output are lists of items; the items a model produces
 * (assistant messages, function calls, reasoning) that follow each other form one assistant message,
 * so a response and the next request's copy of it have the same shape. Streaming: the terminal
 * response.completed|incomplete|failed event carries the whole response; output_item.done items and
 * then text/argument deltas are the fallback when it is missing or its output is empty.
 */
import { z } from 'zod'
import { parseToolArguments } from './content.js'
import { type ErrorInfo, errorFromBody } from './errors.js'
import { openAiContent, openAiContentToBlocks } from './openai-content.js'
import type { ApiParser, RequestParseResult, StreamReducer } from './provider.js'
import { ResponseState } from './response-state.js'
import { isNullishNumber, isRecord, nullishStrings } from './shape.js'
import type { BodySessionHints, ContentBlock, Message, Role } from './types.js'
import { openAiResponsesUsage } from './usage.js'
import { validate } from './validation.js'

const item = z.looseObject({
  type: z.string().nullish(),
  id: z.string().nullish(),
  role: z.string().nullish(),
  content: openAiContent,
  call_id: z.string().nullish(),
  name: z.string().nullish(),
  arguments: z.string().nullish(),
  /** custom_tool_call input is free text. */
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  summary: z.array(z.looseObject({ text: z.string().nullish() })).nullish(),
  encrypted_content: z.string().nullish(),
})
type Item = z.infer<typeof item>

const requestSchema = z.looseObject({
  model: z.string().nullish(),
  input: z.union([z.string(), z.array(item)]).nullish(),
  instructions: z.union([z.string(), z.array(item)]).nullish(),
  stream: z.boolean().nullish(),
  tools: z.array(z.unknown()).nullish(),
  conversation: z.union([z.string(), z.looseObject({ id: z.string() })]).nullish(),
  previous_response_id: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
})

const usageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  input_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
  output_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
})

const responseObject = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  status: z.string().nullish(),
  output: z.array(item).nullish(),
  usage: usageSchema.nullish(),
  incomplete_details: z.looseObject({ reason: z.string().nullish() }).nullish(),
  error: z.unknown().optional(),
})
type ResponseObject = z.infer<typeof responseObject>

const eventSchema = z.looseObject({
  type: z.string(),
  response: responseObject.nullish(),
  output_index: z.number().nullish(),
  item: item.nullish(),
  delta: z.string().nullish(),
})

type Event = z.infer<typeof eventSchema>

/**
 * A delta event (text, arguments, summary: nearly every event of a stream) checked by hand, or null
 * when it carries a response or an item, or is not plainly the schema's shape: those take the schema.
 */
function deltaEvent(value: unknown): Event | null {
  if (!isRecord(value) || typeof value.type !== 'string' || !value.type.endsWith('.delta')) return null
  if (value.response != null || value.item != null) return null
  if (!isNullishNumber(value.output_index) || !nullishStrings(value, ['delta'])) return null
  return value as Event
}

interface Placed {
  role: Role
  blocks: ContentBlock[]
}

function toolOutput(value: unknown): string | ContentBlock[] {
  if (typeof value === 'string') return value
  const parts = openAiContent.safeParse(value)
  return parts.success ? openAiContentToBlocks(parts.data) : JSON.stringify(value ?? null)
}

/** Where an input or output item goes, and its blocks. */
function placeItem(it: Item): Placed | null {
  const type = it.type ?? (it.role ? 'message' : '')
  switch (type) {
    case 'message': {
      const blocks = openAiContentToBlocks(it.content)
      if (it.role === 'system' || it.role === 'developer') return { role: 'system', blocks }
      return { role: it.role === 'assistant' ? 'assistant' : 'user', blocks }
    }
    case 'function_call':
      return {
        role: 'assistant',
        blocks: [
          {
            type: 'tool_use',
            id: it.call_id ?? '',
            name: it.name ?? '',
            input: parseToolArguments(it.arguments ?? ''),
          },
        ],
      }
    case 'custom_tool_call':
      return {
        role: 'assistant',
        blocks: [{ type: 'tool_use', id: it.call_id ?? '', name: it.name ?? '', input: it.input }],
      }
    case 'reasoning': {
      const text = (it.summary ?? []).map((s) => s.text ?? '').join('\n')
      const signature = it.encrypted_content
      return { role: 'assistant', blocks: [{ type: 'thinking', text, ...(signature ? { signature } : {}) }] }
    }
    case 'function_call_output':
    case 'custom_tool_call_output':
      return {
        role: 'tool',
        blocks: [
          { type: 'tool_result', toolUseId: it.call_id ?? '', output: toolOutput(it.output), isError: false },
        ],
      }
    default:
      // Hosted tools (web_search_call, file_search_call, ...) run inside the response: the item is the call.
      if (type.endsWith('_call')) {
        return { role: 'assistant', blocks: [{ type: 'tool_use', id: it.id ?? '', name: type, input: it }] }
      }
      return null // item_reference and unknown items carry no content
  }
}

function parseRequest(body: unknown): RequestParseResult {
  const parsed = validate(requestSchema, body, 'responses request')
  if (!parsed.ok) return parsed
  const r = parsed.value
  const system: ContentBlock[] = []
  const messages: Message[] = []
  const place = (items: Item[]): void => {
    for (const it of items) {
      const placed = placeItem(it)
      if (!placed) continue
      if (placed.role === 'system') {
        system.push(...placed.blocks)
        continue
      }
      const last = messages.at(-1)
      if (placed.role === 'assistant' && last?.role === 'assistant') last.content.push(...placed.blocks)
      else messages.push({ role: placed.role, content: placed.blocks })
    }
  }
  if (typeof r.instructions === 'string') system.push(...openAiContentToBlocks(r.instructions))
  else if (r.instructions) place(r.instructions.map((it) => ({ ...it, role: it.role ?? 'developer' })))
  if (typeof r.input === 'string') messages.push({ role: 'user', content: openAiContentToBlocks(r.input) })
  else if (r.input) place(r.input)

  const hints: BodySessionHints = {}
  const conversation = typeof r.conversation === 'string' ? r.conversation : r.conversation?.id
  if (conversation) hints.conversationId = conversation
  if (r.previous_response_id) hints.previousResponseId = r.previous_response_id
  if (r.prompt_cache_key) hints.promptCacheKey = r.prompt_cache_key
  return {
    ok: true,
    value: {
      api: 'openai.responses',
      provider: 'openai',
      model: r.model ?? null,
      stream: r.stream ?? false,
      system,
      messages,
      toolCount: r.tools?.length ?? 0,
      hints,
    },
  }
}

interface StreamedItem {
  item: Item
  done: boolean
  /** Text, refusal, reasoning-summary or argument deltas, depending on the item type. */
  deltas: string[]
}

/** An item the stream did not finish, rebuilt from its deltas. */
function rebuild({ item: it, done, deltas }: StreamedItem): Item {
  if (done || deltas.length === 0) return it
  const joined = deltas.join('')
  switch (it.type) {
    case 'message':
      return { ...it, content: [{ type: 'output_text', text: joined }] }
    case 'function_call':
      return { ...it, arguments: joined }
    case 'custom_tool_call':
      return { ...it, input: joined }
    case 'reasoning':
      return { ...it, summary: [{ text: joined }] }
    default:
      return it
  }
}

function createReducer(mode: 'json' | 'stream'): StreamReducer {
  const items = new Map<number, StreamedItem>()
  let started: ResponseObject | null = null
  let final: ResponseObject | null = null
  let error: ErrorInfo | null = null

  function onEvent(e: Event, value: unknown): void {
    const index = e.output_index ?? 0
    switch (e.type) {
      case 'response.created':
      case 'response.in_progress':
        started = e.response ?? started
        break
      case 'response.output_item.added':
      case 'response.output_item.done':
        if (e.item)
          items.set(index, {
            item: e.item,
            done: e.type.endsWith('.done'),
            deltas: items.get(index)?.deltas ?? [],
          })
        break
      case 'response.output_text.delta':
      case 'response.refusal.delta':
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta':
      case 'response.reasoning_summary_text.delta':
        if (e.delta) items.get(index)?.deltas.push(e.delta)
        break
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        final = e.response ?? null
        break
      case 'error':
        error = errorFromBody(value)
        break
    }
  }

  return {
    push(_event, value) {
      if (mode === 'json') {
        const parsed = responseObject.safeParse(value)
        if (parsed.success) final = parsed.data
        return
      }
      const delta = deltaEvent(value)
      if (delta) {
        onEvent(delta, value)
        return
      }
      const parsed = eventSchema.safeParse(value)
      if (parsed.success) onEvent(parsed.data, value)
    },
    finish() {
      const head: ResponseObject | null = final ?? started
      const output =
        final?.output && final.output.length > 0
          ? final.output
          : [...items.keys()].sort((a, b) => a - b).map((i) => rebuild(items.get(i)!))
      const content: ContentBlock[] = []
      for (const it of output) {
        const placed = placeItem(it)
        if (placed?.role === 'assistant') content.push(...placed.blocks)
      }
      const state = new ResponseState()
      state.id = head?.id ?? null
      state.model = head?.model ?? null
      state.stopReason = final ? (final.incomplete_details?.reason ?? final.status ?? null) : null
      if (final?.usage) state.usage = openAiResponsesUsage(final.usage)
      state.error = error ?? (final?.error != null ? errorFromBody(final) : null)
      state.terminal = final !== null
      return state.finish(content)
    },
  }
}

export const openAiResponses: ApiParser = {
  api: 'openai.responses',
  provider: 'openai',
  matches: (path) => path.endsWith('/responses'),
  // /responses/{id}, /responses/{id}/cancel, /responses/{id}/input_items, /responses/input_tokens
  isSideEndpoint: (path) => /\/responses\/[^/]+(\/[^/]+)?$/.test(path),
  parseRequest,
  createReducer,
}
