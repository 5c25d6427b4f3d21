/**
 * Every supported API, listed explicitly (no self-registration on import), one line each. The object
 * is checked against Api, so an API without a parser (or a parser under the wrong key) does not compile.
 * Key order is match order.
 */
import { anthropicMessages } from './anthropic/messages.js'
import { geminiGenerate } from './gemini/generate.js'
import { ollamaChat, ollamaGenerate } from './ollama/api.js'
import { openAiChat } from './openai/chat.js'
import { openAiResponses } from './openai/responses.js'
import type { ApiParser } from './provider.js'
import type { Api } from './types.js'

const PARSERS = {
  'openai.chat': openAiChat,
  'openai.responses': openAiResponses,
  'anthropic.messages': anthropicMessages,
  'gemini.generate': geminiGenerate,
  'ollama.chat': ollamaChat,
  'ollama.generate': ollamaGenerate,
} as const satisfies { [A in Api]: ApiParser<A> }

export const API_PARSERS: readonly ApiParser[] = Object.values(PARSERS)

export function parserFor(api: Api): ApiParser {
  return PARSERS[api]
}
