/**
 * Anthropic Messages (.../v1/messages). Streaming is folded by content-block index
 * (content_block_start/delta/stop); usage starts at message_start and message_delta's usage is
 * cumulative, so its fields replace earlier ones. Terminal event: message_stop.
 */
import { z } from 'zod'
import { parseToolArguments, withoutOpaqueFields } from '../content.js'
import { errorFromBody } from '../errors.js'
import type { ApiParser, RequestParseResult, StreamReducer } from '../provider.js'
import { ResponseState } from '../response-state.js'
import { isNullishNumber, isRecord, nullishStrings } from '../shape.js'
import type { BodySessionHints, ContentBlock, Message, Role } from '../types.js'
import { validate } from '../validation.js'
import { type AnthropicUsage, anthropicUsage } from './usage.js'

const block = z.looseObject({
  type: z.string(),
  text: z.string().nullish(),
  id: z.string().nullish(),
  name: z.string().nullish(),
  input: z.unknown().optional(),
  tool_use_id: z.string().nullish(),
  content: z.unknown().optional(),
  is_error: z.boolean().nullish(),
  thinking: z.string().nullish(),
  signature: z.string().nullish(),
  data: z.string().nullish(),
  title: z.string().nullish(),
  source: z
    .looseObject({
      type: z.string().nullish(),
      media_type: z.string().nullish(),
      data: z.string().nullish(),
      url: z.string().nullish(),
      file_id: z.string().nullish(),
      content: z.unknown().optional(),
    })
    .nullish(),
})
type Block = z.infer<typeof block>

const content = z.union([z.string(), z.array(block)])

const requestSchema = z.looseObject({
  model: z.string().nullish(),
  system: content.nullish(),
  messages: z.array(z.looseObject({ role: z.string(), content })),
  stream: z.boolean().nullish(),
  tools: z.array(z.unknown()).nullish(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).nullish(),
})

const usageSchema = z.looseObject({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_creation: z
    .looseObject({
      ephemeral_5m_input_tokens: z.number().nullish(),
      ephemeral_1h_input_tokens: z.number().nullish(),
    })
    .nullish(),
  server_tool_use: z.looseObject({ web_search_requests: z.number().nullish() }).nullish(),
  output_tokens_details: z.looseObject({ thinking_tokens: z.number().nullish() }).nullish(),
})

const messageSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  content: z.array(block).nullish(),
  stop_reason: z.string().nullish(),
  usage: usageSchema.nullish(),
})

const eventSchema = z.looseObject({
  type: z.string(),
  index: z.number().nullish(),
  message: messageSchema.nullish(),
  content_block: block.nullish(),
  delta: z
    .looseObject({
      type: z.string().nullish(),
      text: z.string().nullish(),
      partial_json: z.string().nullish(),
      thinking: z.string().nullish(),
      signature: z.string().nullish(),
      stop_reason: z.string().nullish(),
    })
    .nullish(),
  usage: usageSchema.nullish(),
})

function toolResultOutput(value: unknown): string | ContentBlock[] {
  if (typeof value === 'string') return value
  const parsed = z.array(block).safeParse(value)
  return parsed.success ? blocksOf(parsed.data) : []
}

/** The text of a `content` document source: its text blocks, joined. */
function sourceText(value: unknown): string {
  const parsed = z.array(block).safeParse(value)
  if (!parsed.success) return typeof value === 'string' ? value : ''
  return parsed.data.flatMap((b) => (b.type === 'text' && b.text ? [b.text] : [])).join('\n')
}

function documentBlock(b: Block): ContentBlock {
  const s = b.source
  const out: Extract<ContentBlock, { type: 'document' }> = { type: 'document' }
  if (s?.media_type) out.mediaType = s.media_type
  if (s?.url) out.url = s.url
  if (s?.file_id) out.fileId = s.file_id
  // A `text` source carries the document itself in `data`; only a `base64` one carries encoded bytes.
  if (s?.data) {
    if (s.type === 'text') out.text = s.data
    else out.data = s.data
  }
  if (s?.type === 'content') {
    const text = sourceText(s.content)
    if (text) out.text = text
  }
  if (b.title) out.title = b.title
  return out
}

/** A server tool's result (web_search_tool_result, ...) as the tool_result of its server_tool_use. */
function serverToolResult(b: Block & { tool_use_id: string }): ContentBlock {
  // A failed call's content is one object typed `<tool>_tool_result_error` with an error_code.
  const failed =
    isRecord(b.content) && typeof b.content.type === 'string' && b.content.type.endsWith('_error')
  return {
    type: 'tool_result',
    toolUseId: b.tool_use_id,
    output: JSON.stringify(withoutOpaqueFields(b.content ?? null)),
    isError: failed,
  }
}

/** One Anthropic block; null for blocks the normalized form has no place for (container uploads, ...). */
function toBlock(b: Block): ContentBlock | null {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: b.text ?? '' }
    case 'image': {
      const s = b.source
      return {
        type: 'image',
        ...(s?.media_type ? { mediaType: s.media_type } : {}),
        ...(s?.url ? { url: s.url } : {}),
        ...(s?.data ? { data: s.data } : {}),
      }
    }
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      return { type: 'tool_use', id: b.id ?? '', name: b.name ?? '', input: b.input ?? {} }
    case 'tool_result':
    case 'mcp_tool_result':
      return {
        type: 'tool_result',
        toolUseId: b.tool_use_id ?? '',
        output: toolResultOutput(b.content),
        isError: b.is_error ?? false,
      }
    case 'thinking':
      return { type: 'thinking', text: b.thinking ?? '', ...(b.signature ? { signature: b.signature } : {}) }
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: b.data ?? '' }
    case 'document':
      return documentBlock(b)
    default:
      // Server tool results (web_search_tool_result, ...) pair with a server_tool_use id.
      if (b.type.endsWith('_tool_result') && b.tool_use_id)
        return serverToolResult({ ...b, tool_use_id: b.tool_use_id })
      return null
  }
}

function blocksOf(value: string | Block[]): ContentBlock[] {
  if (typeof value === 'string') return value ? [{ type: 'text', text: value }] : []
  const out: ContentBlock[] = []
  for (const b of value) {
    const mapped = toBlock(b)
    if (mapped) out.push(mapped)
  }
  return out
}

const SESSION_SUFFIX = /_session_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i
const userIdJson = z.looseObject({ session_id: z.string() })

/** Claude Code puts its session in metadata.user_id: a JSON object now, a `_session_<uuid>` suffix before. */
function sessionFromUserId(userId: string): string | undefined {
  if (userId.startsWith('{')) {
    try {
      const parsed = userIdJson.safeParse(JSON.parse(userId))
      if (parsed.success) return parsed.data.session_id
    } catch {
      // not JSON after all: fall through to the suffix form
    }
  }
  return SESSION_SUFFIX.exec(userId)?.[1]
}

function parseRequest(body: unknown): RequestParseResult {
  const parsed = validate(requestSchema, body, 'messages request')
  if (!parsed.ok) return parsed
  const r = parsed.value
  const messages: Message[] = r.messages.map((m) => ({
    role: (m.role === 'assistant' ? 'assistant' : 'user') satisfies Role,
    content: blocksOf(m.content),
  }))
  const hints: BodySessionHints = {}
  const userId = r.metadata?.user_id
  if (userId) {
    hints.metadataUserId = userId
    const sessionId = sessionFromUserId(userId)
    if (sessionId) hints.metadataSessionId = sessionId
  }
  return {
    ok: true,
    value: {
      api: 'anthropic.messages',
      provider: 'anthropic',
      model: r.model ?? null,
      stream: r.stream ?? false,
      system: r.system ? blocksOf(r.system) : [],
      messages,
      toolCount: r.tools?.length ?? 0,
      hints,
    },
  }
}

interface OpenBlock {
  start: Block
  parts: string[]
  signature?: string
}

/** Closes a streamed block: deltas replace the start block's empty text/thinking/input. */
function closeBlock(open: OpenBlock): ContentBlock | null {
  const joined = open.parts.join('')
  const { start } = open
  switch (start.type) {
    case 'text':
      return { type: 'text', text: (start.text ?? '') + joined }
    case 'thinking':
      return {
        type: 'thinking',
        text: (start.thinking ?? '') + joined,
        ...((open.signature ?? start.signature) ? { signature: open.signature ?? start.signature! } : {}),
      }
    case 'tool_use':
    case 'server_tool_use':
    case 'mcp_tool_use':
      return {
        type: 'tool_use',
        id: start.id ?? '',
        name: start.name ?? '',
        // A no-argument call streams one empty partial_json: the start block's {} stands.
        input: joined.trim().length > 0 ? parseToolArguments(joined) : (start.input ?? {}),
      }
    default:
      return toBlock(start)
  }
}

type Delta = NonNullable<z.infer<typeof eventSchema>['delta']>
const DELTA_FIELDS = ['type', 'text', 'partial_json', 'thinking', 'signature', 'stop_reason'] as const

/**
 * A content_block_delta event checked by hand (it is nearly every event of a stream), or null when
 * its shape is not plainly the schema's.
 */
function contentBlockDelta(value: Record<string, unknown>): { index: number; delta: Delta | null } | null {
  const { index, delta } = value
  if (!isNullishNumber(index)) return null
  if (delta == null) return { index: index ?? 0, delta: null }
  if (!isRecord(delta) || !nullishStrings(delta, DELTA_FIELDS)) return null
  return { index: index ?? 0, delta: delta as Delta }
}

function createReducer(mode: 'json' | 'stream'): StreamReducer {
  const blocks = new Map<number, OpenBlock>()
  const state = new ResponseState()
  let rawUsage: AnthropicUsage | null = null
  let jsonContent: ContentBlock[] | null = null

  /** Cumulative counters: a reported field replaces the earlier value, absent ones are kept. */
  function setUsage(u: z.infer<typeof usageSchema>): void {
    const next: AnthropicUsage = { ...rawUsage }
    if (typeof u.input_tokens === 'number') next.input_tokens = u.input_tokens
    if (typeof u.output_tokens === 'number') next.output_tokens = u.output_tokens
    if (typeof u.cache_read_input_tokens === 'number')
      next.cache_read_input_tokens = u.cache_read_input_tokens
    if (typeof u.cache_creation_input_tokens === 'number')
      next.cache_creation_input_tokens = u.cache_creation_input_tokens
    if (u.cache_creation) next.cache_creation = u.cache_creation
    if (u.server_tool_use) next.server_tool_use = u.server_tool_use
    if (u.output_tokens_details) next.output_tokens_details = u.output_tokens_details
    rawUsage = next
  }

  function pushMessage(m: z.infer<typeof messageSchema>): void {
    state.id ??= m.id ?? null
    state.model ??= m.model ?? null
    if (m.stop_reason) state.stopReason = m.stop_reason
    if (m.usage) setUsage(m.usage)
  }

  function pushDelta(index: number, d: Delta | null): void {
    const open = blocks.get(index)
    if (!open || !d) return
    const piece = d.text ?? d.partial_json ?? d.thinking
    if (typeof piece === 'string') open.parts.push(piece)
    if (d.signature) open.signature = d.signature
  }

  function pushEvent(e: z.infer<typeof eventSchema>, value: unknown): void {
    const index = e.index ?? 0
    switch (e.type) {
      case 'message_start':
        if (e.message) pushMessage(e.message)
        break
      case 'content_block_start':
        if (e.content_block) blocks.set(index, { start: e.content_block, parts: [] })
        break
      case 'content_block_delta':
        pushDelta(index, e.delta ?? null)
        break
      case 'message_delta':
        if (e.delta?.stop_reason) state.stopReason = e.delta.stop_reason
        if (e.usage) setUsage(e.usage)
        break
      case 'message_stop':
        state.terminal = true
        break
      case 'error':
        state.error = errorFromBody(value)
        break
      // ping and content_block_stop need nothing: blocks are closed at the end, by index.
    }
  }

  return {
    push(event, value) {
      if (mode === 'json') {
        const parsed = messageSchema.safeParse(value)
        if (!parsed.success) return
        pushMessage(parsed.data)
        jsonContent = blocksOf(parsed.data.content ?? [])
        state.terminal = true
        return
      }
      // The hot path; an event it does not accept goes through the schema like any other.
      const hot = isRecord(value) && value.type === 'content_block_delta' ? contentBlockDelta(value) : null
      if (hot) {
        pushDelta(hot.index, hot.delta)
        return
      }
      const parsed = eventSchema.safeParse(value)
      if (parsed.success) pushEvent(parsed.data, value)
      else if (event === 'error') state.error = errorFromBody(value)
    },
    finish() {
      let content = jsonContent
      if (!content) {
        content = []
        for (const index of [...blocks.keys()].sort((a, b) => a - b)) {
          const closed = closeBlock(blocks.get(index)!)
          if (closed) content.push(closed)
        }
      }
      if (rawUsage) state.usage = anthropicUsage(rawUsage)
      return state.finish(content)
    },
  }
}

export const anthropicMessages: ApiParser<'anthropic.messages'> = {
  api: 'anthropic.messages',
  provider: 'anthropic',
  matches: (path) => path.endsWith('/v1/messages'),
  isSideEndpoint: (path) => /\/v1\/messages\/(count_tokens|batches)(\/.*)?$/.test(path),
  parseRequest,
  createReducer,
  framing: 'detect',
}
