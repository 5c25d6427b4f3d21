/**
 * OpenAI Chat Completions (and every OpenAI-compatible server's .../chat/completions). Streaming
 * assembles content, reasoning and tool-call argument deltas by tool index. Terminal event: the
 * `data: [DONE]` sentinel. A finish_reason alone is not enough, because with
 * stream_options.include_usage the usage chunk follows the finish_reason chunk; and a server that
 * sends none (some vLLM and LM Studio builds) still completes with [DONE] (stop reason null).
 *
 * What compatible vendors add is tolerated: keep-alive whitespace before a JSON body and SSE comment
 * lines (OpenRouter's `: OPENROUTER PROCESSING`) are framing (parse-response.ts, framing/sse.ts);
 * reasoning as `reasoning_content` (DeepSeek, vLLM) or `reasoning` (OpenRouter, Groq) becomes a
 * thinking block; Groq's `x_groq.usage` stands in for missing top-level usage; DeepSeek's
 * `prompt_cache_hit_tokens` is the cache read (usage.ts). OpenRouter's `usage.cost` is not read: the
 * turn's cost comes from the price table.
 */
import { z } from 'zod'
import { BlockAssembler, parseToolArguments } from '../content.js'
import { errorFromBody } from '../errors.js'
import type { ApiParser, RequestParseResult, StreamReducer } from '../provider.js'
import { ResponseState } from '../response-state.js'
import { isNullishNumber, isRecord, nullishStrings } from '../shape.js'
import type { ContentBlock, Message } from '../types.js'
import { validate } from '../validation.js'
import { openAiContent, openAiContentToBlocks } from './content.js'
import { openAiChatUsage } from './usage.js'

const toolCall = z.looseObject({
  index: z.number().nullish(),
  id: z.string().nullish(),
  function: z.looseObject({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
})

const requestMessage = z.looseObject({
  role: z.string(),
  content: openAiContent,
  name: z.string().nullish(),
  tool_calls: z.array(toolCall).nullish(),
  tool_call_id: z.string().nullish(),
  reasoning_content: z.string().nullish(),
})

const requestSchema = z.looseObject({
  model: z.string().nullish(),
  messages: z.array(requestMessage),
  stream: z.boolean().nullish(),
  tools: z.array(z.unknown()).nullish(),
  functions: z.array(z.unknown()).nullish(),
  prompt_cache_key: z.string().nullish(),
})

const usageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().nullish() }).nullish(),
  /** DeepSeek: the part of prompt_tokens read from its context cache. */
  prompt_cache_hit_tokens: z.number().nullish(),
})

/** A streamed `delta` and a non-streamed `message` carry the same fields. */
const messagePart = z.looseObject({
  content: z.string().nullish(),
  refusal: z.string().nullish(),
  reasoning_content: z.string().nullish(),
  reasoning: z.string().nullish(),
  tool_calls: z.array(toolCall).nullish(),
})

const responseSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().nullish(),
        delta: messagePart.nullish(),
        message: messagePart.nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usageSchema.nullish(),
  /** Groq: `x_groq.usage` in the last chunk of a stream, where OpenAI puts top-level usage. Anything
   * unexpected under it is dropped, never the chunk. */
  x_groq: z
    .looseObject({ usage: usageSchema.nullish().catch(null) })
    .nullish()
    .catch(null),
  error: z.unknown().optional(),
})

function toolUse(call: z.infer<typeof toolCall>): ContentBlock {
  return {
    type: 'tool_use',
    id: call.id ?? '',
    name: call.function?.name ?? '',
    input: parseToolArguments(call.function?.arguments ?? ''),
  }
}

function requestMessageToMessage(m: z.infer<typeof requestMessage>): Message {
  if (m.role === 'tool' || m.role === 'function') {
    const output = openAiContentToBlocks(m.content)
    const only = output.length === 1 && output[0]!.type === 'text' ? output[0]!.text : null
    return {
      role: 'tool',
      content: [
        {
          type: 'tool_result',
          toolUseId: m.tool_call_id ?? m.name ?? '',
          output: only ?? (typeof m.content === 'string' ? m.content : output),
          isError: false,
        },
      ],
    }
  }
  const content: ContentBlock[] = []
  if (m.reasoning_content) content.push({ type: 'thinking', text: m.reasoning_content })
  content.push(...openAiContentToBlocks(m.content))
  for (const call of m.tool_calls ?? []) content.push(toolUse(call))
  return { role: m.role === 'assistant' ? 'assistant' : 'user', content }
}

function parseRequest(body: unknown): RequestParseResult {
  const parsed = validate(requestSchema, body, 'chat completions request')
  if (!parsed.ok) return parsed
  const r = parsed.value
  const system: ContentBlock[] = []
  const messages: Message[] = []
  for (const m of r.messages) {
    if (m.role === 'system' || m.role === 'developer') system.push(...openAiContentToBlocks(m.content))
    else messages.push(requestMessageToMessage(m))
  }
  return {
    ok: true,
    value: {
      api: 'openai.chat',
      provider: 'openai',
      model: r.model ?? null,
      stream: r.stream ?? false,
      system,
      messages,
      toolCount: r.tools?.length ?? r.functions?.length ?? 0,
      hints: r.prompt_cache_key ? { promptCacheKey: r.prompt_cache_key } : {},
    },
  }
}

interface PendingToolCall {
  id: string
  name: string
  args: string[]
}

type Chunk = z.infer<typeof responseSchema>
const PART_FIELDS = ['content', 'refusal', 'reasoning_content', 'reasoning'] as const

function isPlainPart(part: unknown): boolean {
  return part == null || (isRecord(part) && part.tool_calls == null && nullishStrings(part, PART_FIELDS))
}

/**
 * A text-only chunk (nearly every chunk of a stream) checked by hand, or null when it carries usage
 * or tool calls or is not plainly the schema's shape: those go through the schema.
 */
function plainChunk(value: unknown): Chunk | null {
  if (
    !isRecord(value) ||
    value.usage != null ||
    value.x_groq != null ||
    !nullishStrings(value, ['id', 'model'])
  )
    return null
  const { choices } = value
  if (choices != null) {
    if (!Array.isArray(choices)) return null
    for (const c of choices) {
      if (!isRecord(c) || !isNullishNumber(c.index) || !nullishStrings(c, ['finish_reason'])) return null
      if (!isPlainPart(c.delta) || !isPlainPart(c.message)) return null
    }
  }
  return value as Chunk
}

/** One choice's content as it streams: text and reasoning runs, and tool calls by their index. */
class ChoiceAssembler {
  private readonly blocks = new BlockAssembler()
  private readonly tools = new Map<number, PendingToolCall>()

  push(part: z.infer<typeof messagePart>): void {
    this.blocks.thinking(part.reasoning_content ?? part.reasoning)
    this.blocks.text(part.content)
    this.blocks.text(part.refusal)
    if (part.tool_calls) this.addToolCalls(part.tool_calls)
  }

  build(): ContentBlock[] {
    for (const index of [...this.tools.keys()].sort((a, b) => a - b)) {
      const call = this.tools.get(index)!
      this.blocks.block({
        type: 'tool_use',
        id: call.id,
        name: call.name,
        input: parseToolArguments(call.args.join('')),
      })
    }
    return this.blocks.build()
  }

  private addToolCalls(calls: z.infer<typeof toolCall>[]): void {
    calls.forEach((call, position) => {
      const index = call.index ?? position
      let pending = this.tools.get(index)
      if (!pending) {
        pending = { id: '', name: '', args: [] }
        this.tools.set(index, pending)
      }
      if (call.id) pending.id = call.id
      if (call.function?.name) pending.name += call.function.name
      if (call.function?.arguments) pending.args.push(call.function.arguments)
    })
  }
}

function createReducer(mode: 'json' | 'stream'): StreamReducer {
  // By choice index; n > 1 completions interleave their choices' deltas.
  const choices = new Map<number, ChoiceAssembler>()
  const state = new ResponseState()
  // Top-level usage wins over a vendor's block (Groq's x_groq.usage) wherever each came in the stream.
  let topLevelUsage = false

  function pushChunk(chunk: Chunk): void {
    if (chunk.error != null) state.error = errorFromBody(chunk)
    state.id ??= chunk.id ?? null
    state.model ??= chunk.model ?? null
    if (chunk.usage) {
      state.usage = openAiChatUsage(chunk.usage)
      topLevelUsage = true
    } else if (chunk.x_groq?.usage && !topLevelUsage) state.usage = openAiChatUsage(chunk.x_groq.usage)
    for (const [position, choice] of (chunk.choices ?? []).entries()) {
      const index = choice.index ?? position
      const part = choice.delta ?? choice.message
      if (part) {
        let assembler = choices.get(index)
        if (!assembler) {
          assembler = new ChoiceAssembler()
          choices.set(index, assembler)
        }
        assembler.push(part)
      }
      // The turn's stop reason is the first choice's.
      if (choice.finish_reason && index === 0) state.stopReason = choice.finish_reason
    }
    if (mode === 'json') state.terminal = true
  }

  return {
    push(_event, value) {
      if (value === '[DONE]') {
        state.terminal = true
        return
      }
      const chunk = plainChunk(value)
      if (chunk) {
        pushChunk(chunk)
        return
      }
      const parsed = responseSchema.safeParse(value)
      if (parsed.success) pushChunk(parsed.data)
    },
    finish() {
      const [first = [], ...others] = [...choices.keys()]
        .sort((a, b) => a - b)
        .map((index) => choices.get(index)!.build())
      return state.finish(first, others)
    },
  }
}

export const openAiChat: ApiParser<'openai.chat'> = {
  api: 'openai.chat',
  provider: 'openai',
  matches: (path) => path.endsWith('/chat/completions'),
  // Stored completions: /chat/completions/{id} and /chat/completions/{id}/messages.
  isSideEndpoint: (path) => /\/chat\/completions\/[^/]+(\/messages)?$/.test(path),
  parseRequest,
  createReducer,
  framing: 'detect',
}
