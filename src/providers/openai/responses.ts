/**
 * OpenAI Responses (.../responses). Input and output are lists of items (mapped to blocks in
 * openai-items.ts); the items a model or the server produces (messages, reasoning, function and
 * hosted tool calls) that follow each other form one assistant message, so a response and the next
 * request's copy of it have the same shape. Streaming: the terminal response.completed|incomplete|
 * failed event carries the whole response; output_item.done items, then the deltas of unfinished
 * items (text, arguments, code, reasoning summary and text, partial images) are the fallback when it
 * is missing or its output is empty.
 */
import { z } from 'zod'
import { type ErrorInfo, errorFromBody } from '../errors.js'
import type { ApiParser, RequestParseResult, StreamReducer } from '../provider.js'
import { ResponseState } from '../response-state.js'
import { isNullishNumber, isRecord, nullishStrings } from '../shape.js'
import type { BodySessionHints, ContentBlock, Message } from '../types.js'
import { validate } from '../validation.js'
import { openAiContentToBlocks } from './content.js'
import { type Item, item, placeItem } from './items.js'
import { openAiResponsesUsage } from './usage.js'

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
  summary_index: z.number().nullish(),
  content_index: z.number().nullish(),
  partial_image_b64: z.string().nullish(),
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
  if (!isNullishNumber(value.summary_index) || !isNullishNumber(value.content_index)) return null
  return value as Event
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
  /** Text, refusal, argument, input or code deltas, depending on the item type. */
  deltas: string[]
  /** A reasoning item's summary and reasoning_text deltas, by summary_index and content_index. */
  summary: string[][]
  reasoning: string[][]
  /** The last partial image of an image_generation_call. */
  partialImage?: string
}

/** Reasoning parts per item past this index are ignored (an index is a list position, not a size). */
const MAX_PART_INDEX = 1024

const joined = (parts: string[][]): string[] => Array.from(parts, (p) => (p ?? []).join(''))

/** An item the stream did not finish, rebuilt from its deltas. */
function rebuild(streamed: StreamedItem): Item {
  const { item: it, done, deltas } = streamed
  if (done) return it
  const text = deltas.join('')
  switch (it.type) {
    case 'message':
      return deltas.length > 0 ? { ...it, content: [{ type: 'output_text', text }] } : it
    case 'function_call':
    case 'mcp_call':
    case 'mcp_approval_request':
      return deltas.length > 0 ? { ...it, arguments: text } : it
    case 'custom_tool_call':
      return deltas.length > 0 ? { ...it, input: text } : it
    case 'code_interpreter_call':
      return deltas.length > 0 ? { ...it, code: text } : it
    case 'image_generation_call':
      return streamed.partialImage ? { ...it, result: streamed.partialImage } : it
    case 'reasoning': {
      const out = { ...it }
      if (streamed.summary.length > 0) out.summary = joined(streamed.summary).map((t) => ({ text: t }))
      if (streamed.reasoning.length > 0)
        out.content = joined(streamed.reasoning).map((t) => ({ type: 'reasoning_text', text: t }))
      return out
    }
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
        if (e.item) {
          const seen = items.get(index)
          items.set(index, {
            item: e.item,
            done: e.type.endsWith('.done'),
            deltas: seen?.deltas ?? [],
            summary: seen?.summary ?? [],
            reasoning: seen?.reasoning ?? [],
            ...(seen?.partialImage ? { partialImage: seen.partialImage } : {}),
          })
        }
        break
      case 'response.output_text.delta':
      case 'response.refusal.delta':
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta':
      case 'response.mcp_call_arguments.delta':
      case 'response.code_interpreter_call_code.delta':
        if (e.delta) items.get(index)?.deltas.push(e.delta)
        break
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta': {
        const streamed = items.get(index)
        if (!e.delta || !streamed) break
        const full = e.type === 'response.reasoning_text.delta'
        const lists = full ? streamed.reasoning : streamed.summary
        const at = (full ? e.content_index : e.summary_index) ?? 0
        if (!Number.isInteger(at) || at < 0 || at > MAX_PART_INDEX) break
        const list = lists[at] ?? []
        lists[at] = list
        list.push(e.delta)
        break
      }
      case 'response.image_generation_call.partial_image': {
        const streamed = items.get(index)
        if (streamed && e.partial_image_b64) streamed.partialImage = e.partial_image_b64
        break
      }
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

export const openAiResponses: ApiParser<'openai.responses'> = {
  api: 'openai.responses',
  provider: 'openai',
  matches: (path) => path.endsWith('/responses'),
  // /responses/{id}, /responses/{id}/cancel, /responses/{id}/input_items, /responses/input_tokens
  isSideEndpoint: (path) => /\/responses\/[^/]+(\/[^/]+)?$/.test(path),
  parseRequest,
  createReducer,
  framing: 'detect',
}
