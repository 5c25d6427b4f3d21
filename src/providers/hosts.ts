/**
 * The provider of a turn, from the host the request addressed (its `:authority`). The API is decided
 * by the path (detect.ts); the host only names who served it, so every OpenAI-compatible vendor
 * (OpenRouter, Groq, DeepSeek, ...) reuses the chat-completions parser under its own name. A host in
 * neither the built-in table nor the configured map (SESSIONTAP_PROVIDER_HOSTS) keeps the API's own
 * provider ('openai' for chat completions), so a gateway in front of OpenAI, vLLM or LM Studio records
 * as before until the map names it.
 *
 * Host values are client input: they are normalized (lower case, no trailing dot, no userinfo), longer
 * than MAX_AUTHORITY characters they name nothing, and nothing here throws.
 */
import { z } from 'zod'

/** RFC 1035 caps a name at 253 characters; with a port and brackets 300 is ample. */
export const MAX_AUTHORITY = 300

/** The vocabulary of provider names: lower case, digits, `.`, `_`, `-`, at most 32 characters. */
export const PROVIDER_NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/

/**
 * Vendor hosts and the provider they name. Each vendor's OpenAI-compatible base URL, for the path:
 * OpenRouter https://openrouter.ai/api/v1, Groq https://api.groq.com/openai/v1, DeepSeek
 * https://api.deepseek.com (and /v1), Mistral https://api.mistral.ai/v1, Together
 * https://api.together.xyz/v1, Fireworks https://api.fireworks.ai/inference/v1, xAI https://api.x.ai/v1,
 * Cerebras https://api.cerebras.ai/v1, Perplexity https://api.perplexity.ai; every one ends in
 * /chat/completions, which is all path detection needs.
 */
export const BUILTIN_PROVIDER_HOSTS: Readonly<Record<string, string>> = {
  'api.openai.com': 'openai',
  'api.anthropic.com': 'anthropic',
  'generativelanguage.googleapis.com': 'gemini',
  'openrouter.ai': 'openrouter',
  'api.groq.com': 'groq',
  'api.deepseek.com': 'deepseek',
  'api.mistral.ai': 'mistral',
  'api.together.xyz': 'together',
  'api.together.ai': 'together',
  'api.fireworks.ai': 'fireworks',
  'api.x.ai': 'xai',
  'api.cerebras.ai': 'cerebras',
  'api.perplexity.ai': 'perplexity',
}

/** Every provider name the built-in table and the APIs' defaults use (price files may name these). */
export const KNOWN_PROVIDERS = [
  'openai',
  'anthropic',
  'gemini',
  'ollama',
  'openrouter',
  'groq',
  'deepseek',
  'mistral',
  'together',
  'fireworks',
  'xai',
  'cerebras',
  'perplexity',
] as const

/** Configured host → provider entries; keys are normalized `host` or `host:port`. Plain data. */
export type ProviderHosts = Readonly<Record<string, string>>

export interface Authority {
  host: string
  port: string | null
}

/**
 * `Host`/`:authority` → lower-case host and port, or null when the value is too long or not a
 * host[:port] (IPv6 in brackets). Userinfo before '@' and a trailing dot are dropped.
 */
export function parseAuthority(value: string | undefined): Authority | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_AUTHORITY) return null
  let text = value.trim().toLowerCase()
  const at = text.lastIndexOf('@')
  if (at !== -1) text = text.slice(at + 1)
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+?)\.?(?::(\d{1,5}))?$/.exec(text)
  if (!match || match[1] === '' || match[1] === '.') return null
  return { host: match[1]!, port: match[2] ?? null }
}

/**
 * The provider a host names: the configured map by host:port, then by host, then the built-in
 * table by host; null when none does.
 */
export function providerForHost(
  authority: string | undefined,
  configured: ProviderHosts = {},
): string | null {
  const parsed = parseAuthority(authority)
  if (parsed === null) return null
  return (
    (parsed.port !== null ? own(configured, `${parsed.host}:${parsed.port}`) : null) ??
    own(configured, parsed.host) ??
    own(BUILTIN_PROVIDER_HOSTS, parsed.host)
  )
}

const KNOWN = new Set<string>(KNOWN_PROVIDERS)

/**
 * A gateway prefix naming a known provider: the first segment of the path (`/groq/openai/v1/...`,
 * `/openrouter/api/v1/...`, like envoy.yaml's `/openai/`, `/anthropic/`, `/gemini/` routes); null
 * otherwise. Used when the host names nothing, since behind Envoy the host is usually Envoy's own.
 */
export function providerForPathPrefix(path: string): string | null {
  const match = /^\/([A-Za-z0-9._-]{1,32})\//.exec(path)
  const segment = match?.[1]?.toLowerCase()
  return segment !== undefined && KNOWN.has(segment) ? segment : null
}

/** Own string entries only: a host named `constructor` or `__proto__` must not reach Object.prototype. */
function own(table: Readonly<Record<string, string>>, key: string): string | null {
  if (!Object.hasOwn(table, key)) return null
  const value = table[key]
  return typeof value === 'string' ? value : null
}

/**
 * SESSIONTAP_PROVIDER_HOSTS: `host=provider,host:port=provider`. A key with a port matches only that
 * port; one without matches the host on any port. Errors name the entry.
 */
export const providerHostsSchema = z.string().transform((text, ctx): ProviderHosts => {
  const out: Record<string, string> = {}
  text.split(',').forEach((raw, i) => {
    const entry = raw.trim()
    if (entry === '') return
    const eq = entry.indexOf('=')
    const key = eq === -1 ? '' : entry.slice(0, eq).trim()
    const name =
      eq === -1
        ? ''
        : entry
            .slice(eq + 1)
            .trim()
            .toLowerCase()
    const authority = key.includes('@') ? null : parseAuthority(key)
    const normalized = authority && (authority.port ? `${authority.host}:${authority.port}` : authority.host)
    const problem =
      eq === -1
        ? 'is not host=provider'
        : !normalized
          ? `has a host ${JSON.stringify(key.slice(0, 64))} that is not host or host:port`
          : !PROVIDER_NAME.test(name)
            ? 'has a provider name that is not 1-32 characters of a-z 0-9 . _ - (starting with a letter or digit)'
            : Object.hasOwn(out, normalized)
              ? `repeats the host ${normalized}`
              : null
    if (problem) ctx.addIssue({ code: 'custom', message: `entry ${i + 1} ${problem}` })
    else Object.defineProperty(out, normalized!, { value: name, enumerable: true, writable: true })
  })
  return out
})
