/** Every supported API, listed explicitly (no self-registration on import). Order is match order. */
import { anthropicMessages } from './anthropic.js'
import { geminiGenerate } from './gemini.js'
import { ollamaChat, ollamaGenerate } from './ollama.js'
import { openAiChat } from './openai-chat.js'
import { openAiResponses } from './openai-responses.js'
import type { ApiParser } from './provider.js'
import type { Api } from './types.js'

export const API_PARSERS: readonly ApiParser[] = [
  openAiChat,
  openAiResponses,
  anthropicMessages,
  geminiGenerate,
  ollamaChat,
  ollamaGenerate,
]

export function parserFor(api: Api): ApiParser {
  const parser = API_PARSERS.find((p) => p.api === api)
  if (!parser) throw new Error(`no parser registered for ${api}`) // a bug: APIS and the registry disagree
  return parser
}
