/**
 * The loop hash of a turn: what the agent asked this time (its new input and the tool calls that led
 * to it), without call ids, so an agent repeating the same step produces the same hash (docs in README).
 */
import { createHash } from 'node:crypto'
import type { Message, ParsedRequest } from '../providers/types.js'
import { canonicalJson } from '../session/canonical-json.js'
import { type ProjectedBlock, projectBlocks, projectMessage } from '../session/projection.js'

/** Call ids differ on every repetition of the same step; the loop hash must not see them. */
function withoutCallIds(block: ProjectedBlock): ProjectedBlock {
  if (block.type === 'tool_use') {
    const { tool_use_id: _id, ...rest } = block
    return rest
  }
  if (block.type === 'tool_result') {
    const { tool_result_id: _id, ...rest } = block
    return rest
  }
  return block
}

/**
 * sha256 (hex) of the RFC 8785 JSON of `{input, toolCalls}`: `input` is every message after the last
 * assistant message (the user's or the tools' answer; the last message when there is no assistant
 * message), projected as it is hashed into the chain; `toolCalls` are the tool_use blocks of that
 * last assistant message. Call ids are left out. Null when the request carries neither.
 */
export function loopHash(request: Pick<ParsedRequest, 'messages'>): string | null {
  const messages: readonly Message[] = request.messages
  const lastAssistant = messages.findLastIndex((message) => message.role === 'assistant')
  const trailing = lastAssistant >= 0 ? messages.slice(lastAssistant + 1) : messages.slice(-1)
  const input = trailing
    .map((message) => projectMessage(message.role, message.content))
    .filter((message) => message.content.length > 0)
    .map((message) => ({ ...message, content: message.content.map(withoutCallIds) }))
  const toolCalls =
    lastAssistant >= 0
      ? projectBlocks(messages[lastAssistant]!.content.filter((block) => block.type === 'tool_use')).map(
          withoutCallIds,
        )
      : []
  if (input.length === 0 && toolCalls.length === 0) return null
  return createHash('sha256').update(canonicalJson({ input, toolCalls }), 'utf8').digest('hex')
}
