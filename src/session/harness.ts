/**
 * Harness-native session signals: which agent harness sent a call (user agent), the session and
 * thread ids harnesses and routers put in their own headers, and the session keys a body can carry.
 */
import type { HeaderMap } from '../extproc/exchange.js'
import type { BodySessionHints } from '../providers/types.js'

/** User-agent prefixes of known harnesses; the first path segment after `/` is the version. */
const USER_AGENT_HARNESSES: readonly { pattern: RegExp; harnessId: string }[] = [
  { pattern: /^claude-cli\/(\S+)/i, harnessId: 'claude' },
  { pattern: /^claude-code\/(\S+)/i, harnessId: 'claude' },
  { pattern: /^codex[a-z_-]*\/(\S+)/i, harnessId: 'codex' }, // codex_cli_rs/…, codex_exec/…
  { pattern: /^opencode\/(\S+)/i, harnessId: 'opencode' },
  { pattern: /^goose\/(\S+)/i, harnessId: 'goose' },
  { pattern: /^qwen-?code\/(\S+)/i, harnessId: 'qwen-code' },
  { pattern: /^gemini-?cli\/(\S+)/i, harnessId: 'gemini-cli' },
]

// The user agent is free text; a version is a label, so keep it short.
const MAX_VERSION_LENGTH = 64

export function harnessFromUserAgent(
  userAgent: string | undefined,
): { harnessId: string; version: string } | null {
  if (userAgent === undefined) return null
  for (const { pattern, harnessId } of USER_AGENT_HARNESSES) {
    const version = pattern.exec(userAgent)?.[1]
    if (version !== undefined) return { harnessId, version: version.slice(0, MAX_VERSION_LENGTH) }
  }
  return null
}

/**
 * Session id headers, first match wins. `harnessId` is what the header itself implies, used only
 * when the user agent names no harness; router headers (Helicone, LiteLLM, x-session-id) imply none.
 */
export const NATIVE_SESSION_HEADERS: readonly { header: string; harnessId: string | null }[] = [
  { header: 'x-claude-code-session-id', harnessId: 'claude' },
  { header: 'session-id', harnessId: 'codex' },
  { header: 'session_id', harnessId: 'codex' }, // older Codex
  { header: 'conversation_id', harnessId: 'codex' }, // older Codex
  { header: 'agent-session-id', harnessId: null }, // ACP vocabulary (Goose and others)
  { header: 'x-opencode-session', harnessId: 'opencode' },
  { header: 'x-qwen-code-session-id', harnessId: 'qwen-code' },
  { header: 'helicone-session-id', harnessId: null },
  { header: 'x-litellm-session-id', harnessId: null },
  { header: 'x-session-id', harnessId: null },
]

/**
 * Body fields that name a session, first match wins. Left out on purpose: `previous_response_id`
 * (it names the previous response, so it changes every turn) and the raw `metadata.user_id` (it
 * names a user or device across sessions; only the session id inside it is a session key).
 */
export const BODY_SESSION_HINTS: readonly { field: keyof BodySessionHints; source: string }[] = [
  { field: 'metadataSessionId', source: 'body:metadata.user_id' },
  { field: 'conversationId', source: 'body:conversation' },
  { field: 'promptCacheKey', source: 'body:prompt_cache_key' },
]

/** A thread within a session: a Claude subagent, or a Codex thread that is not the session's own. */
export function threadCandidate(headers: HeaderMap): { header: string; value: string } | null {
  const agent = headers['x-claude-code-agent-id']
  if (agent !== undefined && agent !== '') return { header: 'x-claude-code-agent-id', value: agent }
  const thread = headers['thread-id']
  const session = headers['session-id']
  if (thread !== undefined && thread !== '' && session !== undefined && thread !== session) {
    return { header: 'thread-id', value: thread }
  }
  return null
}
