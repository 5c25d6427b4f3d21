/**
 * Which LLM API a request addresses, from its method and path suffix, so gateway prefixes
 * (/anthropic/v1/messages, /openai/v1/chat/completions) work. Anything else is skipped with a reason.
 */
import type { HeaderMap } from '../exchange.js'
import { pathOnly } from './paths.js'
import { API_PARSERS } from './registry.js'
import type { Api, Provider, SkipReason } from './types.js'

export type Detection = { ok: true; api: Api; provider: Provider } | { ok: false; reason: SkipReason }

/**
 * The path alone decides today; `headers` is part of the signature so header-based routing (a
 * gateway's selected-backend header) can be added without touching callers.
 */
export function detectApi(method: string, path: string, _headers: HeaderMap): Detection {
  if (method.toUpperCase() !== 'POST') return { ok: false, reason: 'not_post' }
  const bare = pathOnly(path)
  for (const parser of API_PARSERS) {
    if (parser.matches(bare)) return { ok: true, api: parser.api, provider: parser.provider }
  }
  if (API_PARSERS.some((parser) => parser.isSideEndpoint(bare))) return { ok: false, reason: 'not_a_turn' }
  return { ok: false, reason: 'unknown_path' }
}
