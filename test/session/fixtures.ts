/** Hand-built provider-normalized requests and responses for the session tests. */
import type { Message, ParsedRequest, ParsedResponse } from '../../src/providers/types.js'

export function parsedRequest(fields: Partial<ParsedRequest>): ParsedRequest {
  return {
    api: 'anthropic.messages',
    provider: 'anthropic',
    model: 'claude-sonnet-4-6',
    stream: true,
    system: [],
    messages: [],
    toolCount: 0,
    hints: {},
    ...fields,
  }
}

export function parsedResponse(message: Message | null): ParsedResponse {
  return {
    message,
    model: 'claude-sonnet-4-6',
    stopReason: 'end_turn',
    providerResponseId: 'msg_01',
    usage: {
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: null,
      cacheCreationTokens: null,
      reasoningTokens: null,
      status: 'reported',
    },
    complete: true,
    error: null,
  }
}

export const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] })
export const assistant = (text: string): Message => ({ role: 'assistant', content: [{ type: 'text', text }] })
