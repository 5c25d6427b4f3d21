/**
 * Which LLM API a request addresses, from its method and path suffix, so gateway prefixes
 * (/anthropic/v1/messages, /openai/v1/chat/completions) and vendor base paths (OpenRouter's
 * /api/v1/chat/completions, Groq's /openai/v1/..., Fireworks' /inference/v1/...) work; and who
 * serves it, from the host (hosts.ts). Anything else is skipped with a reason.
 */
import type { HeaderMap } from '../exchange.js'
import { type ProviderHosts, providerForHost, providerForPathPrefix } from './hosts.js'
import { pathOnly } from './paths.js'
import { API_PARSERS } from './registry.js'
import type { Api, Provider, SkipReason } from './types.js'

export type Detection = { ok: true; api: Api; provider: Provider } | { ok: false; reason: SkipReason }

export interface DetectContext {
  /** The request's `:authority`; absent: the `:authority` or `host` entry of `headers`. */
  authority?: string
  /** Configured host → provider entries (SESSIONTAP_PROVIDER_HOSTS); they win over the built-in table. */
  providerHosts?: ProviderHosts
}

/**
 * The path decides the API; the host names the provider (configured map, then built-in table), else
 * a first path segment naming a known provider (a gateway prefix), else the API's own provider. A
 * gateway's selected-backend header could be added here without touching callers.
 */
export function detectApi(
  method: string,
  path: string,
  headers: HeaderMap,
  context: DetectContext = {},
): Detection {
  if (method.toUpperCase() !== 'POST') return { ok: false, reason: 'not_post' }
  const bare = pathOnly(path)
  for (const parser of API_PARSERS) {
    if (parser.matches(bare)) {
      const authority = context.authority || headers[':authority'] || headers.host
      const provider =
        providerForHost(authority, context.providerHosts) ?? providerForPathPrefix(bare) ?? parser.provider
      return { ok: true, api: parser.api, provider }
    }
  }
  if (API_PARSERS.some((parser) => parser.isSideEndpoint(bare))) return { ok: false, reason: 'not_a_turn' }
  return { ok: false, reason: 'unknown_path' }
}
