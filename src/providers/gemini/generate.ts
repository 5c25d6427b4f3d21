/**
 * Google Gemini generateContent and streamGenerateContent (.../models/{model}:method). The model
 * and the stream flag come from the path. A streamed response is a JSON array of
 * GenerateContentResponse objects (or SSE with alt=sse); each one carries the next parts of every
 * candidate and the usage so far (last one wins). Terminal: the last chunk has a finishReason.
 *
 * Also Gemini Code Assist (cloudcode-pa.googleapis.com/v1internal:generateContent and
 * :streamGenerateContent?alt=sse), what gemini-cli calls when signed in with a Google account: the
 * request wraps a generateContent request as `{model, project, user_prompt_id, request: {...,
 * session_id}}` and each response chunk wraps a GenerateContentResponse as `{response, traceId}`
 * (gemini-cli packages/core/src/code_assist/converter.ts). Both are unwrapped here.
 */
import { z } from 'zod'
import { BlockAssembler } from '../content.js'
import { errorFromBody } from '../errors.js'
import { pathOnly } from '../paths.js'
import type { ApiParser, RequestParseResult, StreamReducer } from '../provider.js'
import { ResponseState } from '../response-state.js'
import type { BodySessionHints, ContentBlock, Message } from '../types.js'
import { validate } from '../validation.js'
import { geminiUsage } from './usage.js'

const part = z.looseObject({
  text: z.string().nullish(),
  thought: z.boolean().nullish(),
  thoughtSignature: z.string().nullish(),
  inlineData: z.looseObject({ mimeType: z.string().nullish(), data: z.string().nullish() }).nullish(),
  fileData: z.looseObject({ mimeType: z.string().nullish(), fileUri: z.string().nullish() }).nullish(),
  functionCall: z
    .looseObject({ id: z.string().nullish(), name: z.string().nullish(), args: z.unknown().optional() })
    .nullish(),
  functionResponse: z
    .looseObject({ id: z.string().nullish(), name: z.string().nullish(), response: z.unknown().optional() })
    .nullish(),
})
type Part = z.infer<typeof part>

const content = z.looseObject({ role: z.string().nullish(), parts: z.array(part).nullish() })

const requestSchema = z.looseObject({
  contents: z.array(content),
  // The REST API also accepts the proto field names in snake_case; these two are common in examples.
  systemInstruction: z.union([z.string(), content]).nullish(),
  system_instruction: z.union([z.string(), content]).nullish(),
  tools: z
    .array(
      z.looseObject({
        functionDeclarations: z.array(z.unknown()).nullish(),
        function_declarations: z.array(z.unknown()).nullish(),
      }),
    )
    .nullish(),
})

const usageSchema = z.looseObject({
  promptTokenCount: z.number().nullish(),
  candidatesTokenCount: z.number().nullish(),
  cachedContentTokenCount: z.number().nullish(),
  thoughtsTokenCount: z.number().nullish(),
  toolUsePromptTokenCount: z.number().nullish(),
})

const chunkSchema = z.looseObject({
  candidates: z
    .array(
      z.looseObject({
        index: z.number().nullish(),
        content: content.nullish(),
        finishReason: z.string().nullish(),
      }),
    )
    .nullish(),
  usageMetadata: usageSchema.nullish(),
  modelVersion: z.string().nullish(),
  responseId: z.string().nullish(),
  promptFeedback: z.looseObject({ blockReason: z.string().nullish() }).nullish(),
  error: z.unknown().optional(),
})

const MODEL_METHOD = /\/models\/([^/:]+):(generateContent|streamGenerateContent)$/
const CODE_ASSIST_METHOD = /\/v1internal:(generateContent|streamGenerateContent)$/
/** Code Assist's other methods (countTokens, loadCodeAssist, onboardUser, ...) are not turns. */
const CODE_ASSIST_SIDE = /\/v1internal:[A-Za-z]+$/

const codeAssistRequest = z.looseObject({
  model: z.string().nullish(),
  project: z.string().nullish(),
  user_prompt_id: z.string().nullish(),
  // Validated as a generateContent request below; session_id is gemini-cli's session.
  request: z.looseObject({ session_id: z.string().nullish() }),
})

const codeAssistChunk = z.looseObject({
  response: z.record(z.string(), z.unknown()),
  traceId: z.string().nullish(),
})

/** A Code Assist chunk as the GenerateContentResponse it wraps (traceId as the response id), else the value. */
function unwrapCodeAssist(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || 'candidates' in value || !('response' in value))
    return value
  const parsed = codeAssistChunk.safeParse(value)
  if (!parsed.success) return value
  const { response, traceId } = parsed.data
  return traceId && response.responseId == null ? { ...response, responseId: traceId } : response
}

function toolUse(call: NonNullable<Part['functionCall']>): ContentBlock {
  // Older models send no call id; the name is what the matching functionResponse refers to.
  return { type: 'tool_use', id: call.id ?? call.name ?? '', name: call.name ?? '', input: call.args ?? {} }
}

function partToBlock(p: Part): ContentBlock | null {
  if (typeof p.text === 'string') {
    if (p.thought)
      return {
        type: 'thinking',
        text: p.text,
        ...(p.thoughtSignature ? { signature: p.thoughtSignature } : {}),
      }
    return p.text ? { type: 'text', text: p.text } : null
  }
  if (p.inlineData) {
    const { mimeType, data } = p.inlineData
    return { type: 'image', ...(mimeType ? { mediaType: mimeType } : {}), ...(data ? { data } : {}) }
  }
  if (p.fileData) {
    const { mimeType, fileUri } = p.fileData
    return {
      type: 'image',
      ...(mimeType ? { mediaType: mimeType } : {}),
      ...(fileUri ? { url: fileUri } : {}),
    }
  }
  if (p.functionCall) return toolUse(p.functionCall)
  if (p.functionResponse) {
    const r = p.functionResponse
    return {
      type: 'tool_result',
      toolUseId: r.id ?? r.name ?? '',
      output: JSON.stringify(r.response ?? null),
      isError: false,
    }
  }
  return null
}

function blocksOf(c: z.infer<typeof content> | string): ContentBlock[] {
  if (typeof c === 'string') return c ? [{ type: 'text', text: c }] : []
  const blocks: ContentBlock[] = []
  for (const p of c.parts ?? []) {
    const block = partToBlock(p)
    if (block) blocks.push(block)
  }
  return blocks
}

function parseRequest(body: unknown, path: string): RequestParseResult {
  const bare = pathOnly(path)
  const codeAssist = CODE_ASSIST_METHOD.exec(bare)
  if (codeAssist) {
    const wrapper = validate(codeAssistRequest, body, 'Code Assist request')
    if (!wrapper.ok) return wrapper
    const inner = validate(requestSchema, wrapper.value.request, 'Code Assist request.request')
    if (!inner.ok) return inner
    const sessionId = wrapper.value.request.session_id
    return generateRequest(
      inner.value,
      wrapper.value.model ?? null,
      codeAssist[1] === 'streamGenerateContent',
      sessionId ? { geminiSessionId: sessionId } : {},
    )
  }
  const parsed = validate(requestSchema, body, 'generateContent request')
  if (!parsed.ok) return parsed
  const match = MODEL_METHOD.exec(bare)
  return generateRequest(
    parsed.value,
    match ? decodeURIComponent(match[1]!) : null,
    match?.[2] === 'streamGenerateContent',
    {},
  )
}

function generateRequest(
  r: z.infer<typeof requestSchema>,
  model: string | null,
  stream: boolean,
  hints: BodySessionHints,
): RequestParseResult {
  const instruction = r.systemInstruction ?? r.system_instruction
  const messages: Message[] = r.contents.map((c) => ({
    role: c.role === 'model' ? 'assistant' : c.role === 'function' ? 'tool' : 'user',
    content: blocksOf(c),
  }))
  let toolCount = 0
  for (const tool of r.tools ?? []) {
    // A tool entry is either a list of function declarations or one built-in tool (googleSearch, ...).
    const declarations = tool.functionDeclarations ?? tool.function_declarations
    toolCount += declarations ? declarations.length : 1
  }
  return {
    ok: true,
    value: {
      api: 'gemini.generate',
      provider: 'gemini',
      model,
      stream,
      system: instruction ? blocksOf(instruction) : [],
      messages,
      toolCount,
      hints,
    },
  }
}

function createReducer(mode: 'json' | 'stream'): StreamReducer {
  // By candidate index (candidateCount > 1); the first candidate is the turn's answer.
  const candidates = new Map<number, BlockAssembler>()
  const state = new ResponseState()

  function pushParts(blocks: BlockAssembler, parts: Part[]): void {
    for (const p of parts) {
      if (p.thought && typeof p.text === 'string') {
        blocks.thinking(p.text)
        if (p.thoughtSignature) blocks.thinkingSignature(p.thoughtSignature)
      } else if (typeof p.text === 'string') blocks.text(p.text)
      else {
        const block = partToBlock(p)
        if (block) blocks.block(block)
      }
    }
  }

  return {
    push(_event, value) {
      const parsed = chunkSchema.safeParse(unwrapCodeAssist(value))
      if (!parsed.success) return
      const chunk = parsed.data
      if (chunk.error != null) state.error = errorFromBody(chunk)
      state.id ??= chunk.responseId ?? null
      state.model ??= chunk.modelVersion ?? null
      if (chunk.usageMetadata) state.usage = geminiUsage(chunk.usageMetadata)
      if (chunk.promptFeedback?.blockReason) state.stopReason = chunk.promptFeedback.blockReason
      let finished = false
      for (const [position, candidate] of (chunk.candidates ?? []).entries()) {
        const index = candidate.index ?? position
        let blocks = candidates.get(index)
        if (!blocks) {
          blocks = new BlockAssembler()
          candidates.set(index, blocks)
        }
        pushParts(blocks, candidate.content?.parts ?? [])
        if (candidate.finishReason) {
          finished = true
          // The turn's stop reason is the first candidate's.
          if (index === 0) state.stopReason = candidate.finishReason
        }
      }
      state.terminal = mode === 'json' || finished || Boolean(chunk.promptFeedback?.blockReason)
    },
    finish() {
      const [first = [], ...others] = [...candidates.keys()]
        .sort((a, b) => a - b)
        .map((index) => candidates.get(index)!.build())
      return state.finish(first, others)
    },
  }
}

export const geminiGenerate: ApiParser<'gemini.generate'> = {
  api: 'gemini.generate',
  provider: 'gemini',
  matches: (path) => MODEL_METHOD.test(path) || CODE_ASSIST_METHOD.test(path),
  isSideEndpoint: (path) =>
    /\/models\/[^/:]+:(countTokens|embedContent|batchEmbedContents|batchGenerateContent)$/.test(path) ||
    CODE_ASSIST_SIDE.test(path),
  parseRequest,
  createReducer,
  framing: 'detect',
}
