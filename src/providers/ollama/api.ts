/**
 * Ollama's native API: /api/chat (messages) and /api/generate (a single prompt). Both stream by
 * default as NDJSON unless the request says stream:false; every line carries the next piece of
 * text and the last one has done:true with the token counts. Terminal: done:true.
 */
import { z } from 'zod'
import { BlockAssembler, parseToolArguments } from '../content.js'
import { errorFromBody } from '../errors.js'
import type { ApiParser, RequestParseResult, StreamReducer } from '../provider.js'
import { ResponseState } from '../response-state.js'
import { isNullishNumber, isRecord, nullishStrings } from '../shape.js'
import type { Api, ContentBlock, Message, ParsedRequest, ProviderTiming } from '../types.js'
import { validate } from '../validation.js'
import { ollamaUsage } from './usage.js'

const toolCall = z.looseObject({
  id: z.string().nullish(),
  function: z.looseObject({
    name: z.string().nullish(),
    // Ollama sends an object; OpenAI-minded clients sometimes send the JSON text.
    arguments: z.unknown().optional(),
  }),
})

const messageSchema = z.looseObject({
  role: z.string().nullish(),
  content: z.string().nullish(),
  thinking: z.string().nullish(),
  images: z.array(z.string()).nullish(),
  tool_calls: z.array(toolCall).nullish(),
  tool_name: z.string().nullish(),
})
type OllamaMessage = z.infer<typeof messageSchema>

const chatRequest = z.looseObject({
  model: z.string().nullish(),
  messages: z.array(messageSchema),
  tools: z.array(z.unknown()).nullish(),
  stream: z.boolean().nullish(),
})

const generateRequest = z.looseObject({
  model: z.string().nullish(),
  prompt: z.string().nullish(),
  system: z.string().nullish(),
  images: z.array(z.string()).nullish(),
  stream: z.boolean().nullish(),
})

const lineSchema = z.looseObject({
  model: z.string().nullish(),
  message: messageSchema.nullish(),
  response: z.string().nullish(),
  thinking: z.string().nullish(),
  done: z.boolean().nullish(),
  done_reason: z.string().nullish(),
  prompt_eval_count: z.number().nullish(),
  eval_count: z.number().nullish(),
  // Durations are informative only: a malformed one is ignored, never a reason to drop the done line.
  total_duration: z.unknown().optional(),
  load_duration: z.unknown().optional(),
  prompt_eval_duration: z.unknown().optional(),
  eval_duration: z.unknown().optional(),
  error: z.unknown().optional(),
})

function toolUse(call: z.infer<typeof toolCall>): ContentBlock {
  const args = call.function.arguments
  const name = call.function.name ?? ''
  return {
    type: 'tool_use',
    id: call.id ?? name,
    name,
    input: typeof args === 'string' ? parseToolArguments(args) : (args ?? {}),
  }
}

function imageBlocks(images: string[] | null | undefined): ContentBlock[] {
  return (images ?? []).map((data) => ({ type: 'image', data }))
}

function messageBlocks(m: OllamaMessage): ContentBlock[] {
  const blocks: ContentBlock[] = []
  if (m.thinking) blocks.push({ type: 'thinking', text: m.thinking })
  if (m.content) blocks.push({ type: 'text', text: m.content })
  blocks.push(...imageBlocks(m.images))
  for (const call of m.tool_calls ?? []) blocks.push(toolUse(call))
  return blocks
}

function request(api: Api, model: string | null | undefined, stream: boolean | null | undefined) {
  return { api, provider: 'ollama', model: model ?? null, stream: stream ?? true, hints: {} } as const
}

function parseChatRequest(body: unknown): RequestParseResult {
  const parsed = validate(chatRequest, body, 'ollama chat request')
  if (!parsed.ok) return parsed
  const r = parsed.value
  const system: ContentBlock[] = []
  const messages: Message[] = []
  for (const m of r.messages) {
    if (m.role === 'system') system.push(...messageBlocks(m))
    else if (m.role === 'tool') {
      messages.push({
        role: 'tool',
        content: [
          { type: 'tool_result', toolUseId: m.tool_name ?? '', output: m.content ?? '', isError: false },
        ],
      })
    } else messages.push({ role: m.role === 'assistant' ? 'assistant' : 'user', content: messageBlocks(m) })
  }
  const value: ParsedRequest = {
    ...request('ollama.chat', r.model, r.stream),
    system,
    messages,
    toolCount: r.tools?.length ?? 0,
  }
  return { ok: true, value }
}

function parseGenerateRequest(body: unknown): RequestParseResult {
  const parsed = validate(generateRequest, body, 'ollama generate request')
  if (!parsed.ok) return parsed
  const r = parsed.value
  const content = [...(r.prompt ? [{ type: 'text', text: r.prompt } as const] : []), ...imageBlocks(r.images)]
  const value: ParsedRequest = {
    ...request('ollama.generate', r.model, r.stream),
    system: r.system ? [{ type: 'text', text: r.system }] : [],
    messages: content.length > 0 ? [{ role: 'user', content }] : [],
    toolCount: 0,
  }
  return { ok: true, value }
}

type Line = z.infer<typeof lineSchema>

const DURATIONS = [
  ['total_duration', 'totalNs'],
  ['load_duration', 'loadNs'],
  ['prompt_eval_duration', 'promptEvalNs'],
  ['eval_duration', 'evalNs'],
] as const

/** The done line's durations (nanoseconds), or null when it reports none. */
export function ollamaTiming(line: Line): ProviderTiming | null {
  const timing: ProviderTiming = {}
  let any = false
  for (const [field, key] of DURATIONS) {
    const value = line[field]
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
      timing[key] = value
      any = true
    }
  }
  return any ? timing : null
}
const LINE_TEXT_FIELDS = ['model', 'response', 'thinking', 'done_reason'] as const
const MESSAGE_TEXT_FIELDS = ['role', 'content', 'thinking', 'tool_name'] as const

/**
 * A text line with done false or absent (nearly every line of a stream) checked by hand, or null when it
 * is done, carries tool calls, images, an error, or is not plainly the schema's shape: those take the schema.
 */
function textLine(value: unknown): Line | null {
  if (!isRecord(value) || (value.done != null && value.done !== false) || value.error !== undefined)
    return null
  if (!nullishStrings(value, LINE_TEXT_FIELDS)) return null
  if (!isNullishNumber(value.prompt_eval_count) || !isNullishNumber(value.eval_count)) return null
  const { message } = value
  if (message != null) {
    if (!isRecord(message) || message.tool_calls != null || message.images != null) return null
    if (!nullishStrings(message, MESSAGE_TEXT_FIELDS)) return null
  }
  return value as Line
}

function createReducer(): StreamReducer {
  const blocks = new BlockAssembler()
  const state = new ResponseState()

  return {
    push(_event, value) {
      let line = textLine(value)
      if (!line) {
        const parsed = lineSchema.safeParse(value)
        if (!parsed.success) return
        line = parsed.data
      }
      if (line.error != null) state.error = errorFromBody(line)
      state.model ??= line.model ?? null
      blocks.thinking(line.message?.thinking ?? line.thinking)
      blocks.text(line.message?.content ?? line.response)
      for (const call of line.message?.tool_calls ?? []) blocks.block(toolUse(call))
      if (line.done) {
        state.terminal = true
        state.stopReason = line.done_reason ?? null
        state.usage = ollamaUsage(line)
        state.providerTiming = ollamaTiming(line)
      }
    },
    // Ollama's native API has no response id: providerResponseId stays null.
    finish: () => state.finish(blocks.build()),
  }
}

export const ollamaChat: ApiParser<'ollama.chat'> = {
  api: 'ollama.chat',
  provider: 'ollama',
  matches: (path) => path.endsWith('/api/chat'),
  isSideEndpoint: () => false,
  parseRequest: parseChatRequest,
  createReducer,
  framing: 'ndjson',
}

export const ollamaGenerate: ApiParser<'ollama.generate'> = {
  api: 'ollama.generate',
  provider: 'ollama',
  matches: (path) => path.endsWith('/api/generate'),
  isSideEndpoint: () => false,
  parseRequest: parseGenerateRequest,
  createReducer,
  framing: 'ndjson',
}
