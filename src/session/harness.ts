/**
 * Harness-native session signals, as tables: which agent harness sent a call (user agent), the
 * session, thread and parent ids harnesses and routers put in their own headers, and the session
 * keys a body can carry. Adding a harness is adding rows here (and a test from its real traffic).
 */
import type { BodySessionHints } from '../providers/types.js'

/** The harness ids sessiontap itself assigns; `x-tapes-harness-id` may name any other. */
export const KNOWN_HARNESS_IDS = [
  'claude', // Claude Code
  'codex',
  'opencode',
  'amp',
  'goose',
  'qwen-code',
  'gemini-cli',
] as const
export type KnownHarnessId = (typeof KNOWN_HARNESS_IDS)[number]

/** User-agent prefixes of known harnesses; the captured group is the version. */
const USER_AGENT_HARNESSES: readonly { pattern: RegExp; harnessId: KnownHarnessId }[] = [
  { pattern: /^claude-cli\/(\S+)/i, harnessId: 'claude' },
  { pattern: /^claude-code\/(\S+)/i, harnessId: 'claude' },
  { pattern: /^codex[a-z_-]*\/(\S+)/i, harnessId: 'codex' }, // codex_cli_rs/…, codex_exec/…
  { pattern: /^opencode\/(\S+)/i, harnessId: 'opencode' },
  { pattern: /^goose\/(\S+)/i, harnessId: 'goose' },
  { pattern: /^qwen-?code\/(\S+)/i, harnessId: 'qwen-code' },
  // GeminiCLI/<version>/<model> (…), or GeminiCLI-<client>/<version>/<model> (…)
  { pattern: /^gemini-?cli(?:-[^/\s]+)?\/([^/\s]+)/i, harnessId: 'gemini-cli' },
]

// The user agent is free text; a version is a label, so keep it short.
const MAX_VERSION_LENGTH = 64

export function harnessFromUserAgent(
  userAgent: string | undefined,
): { harnessId: KnownHarnessId; version: string } | null {
  if (userAgent === undefined) return null
  for (const { pattern, harnessId } of USER_AGENT_HARNESSES) {
    const version = pattern.exec(userAgent)?.[1]
    if (version !== undefined) return { harnessId, version: version.slice(0, MAX_VERSION_LENGTH) }
  }
  return null
}

/**
 * What a header names: the session, a thread within it (a subagent), or the parent session of a
 * child session (a subagent that the harness runs as a session of its own).
 */
export const HEADER_SIGNAL_KINDS = ['session', 'thread', 'parent'] as const
export type HeaderSignalKind = (typeof HEADER_SIGNAL_KINDS)[number]

export interface HeaderSignal {
  kind: HeaderSignalKind
  header: string
  /** The harness the header implies, used only when the user agent names none; null for routers. */
  harnessId: KnownHarnessId | null
}

/**
 * Session, thread and parent headers. Within a kind the first valid one wins, so order matters.
 * Left out on purpose (not session keys): `x-opencode-request` (opencode's user-message id),
 * `x-opencode-project`, `x-codex-installation-id` and `x-gemini-api-privileged-user-id` (one per
 * install, across sessions), `x-client-request-id` (Codex repeats its thread id there).
 */
export const HEADER_SIGNALS: readonly HeaderSignal[] = [
  { kind: 'session', header: 'x-claude-code-session-id', harnessId: 'claude' },
  { kind: 'session', header: 'session-id', harnessId: 'codex' },
  { kind: 'session', header: 'session_id', harnessId: 'codex' }, // older Codex
  { kind: 'session', header: 'conversation_id', harnessId: 'codex' }, // older Codex
  { kind: 'session', header: 'x-amp-thread-id', harnessId: 'amp' }, // an Amp thread is its conversation
  { kind: 'session', header: 'agent-session-id', harnessId: null }, // ACP vocabulary (Goose and others)
  { kind: 'session', header: 'x-opencode-session-id', harnessId: 'opencode' },
  { kind: 'session', header: 'x-opencode-session', harnessId: 'opencode' }, // to opencode's own gateway
  { kind: 'session', header: 'x-session-affinity', harnessId: null }, // opencode to other providers
  { kind: 'session', header: 'x-qwen-code-session-id', harnessId: 'qwen-code' },
  { kind: 'session', header: 'helicone-session-id', harnessId: null },
  { kind: 'session', header: 'x-litellm-session-id', harnessId: null },
  { kind: 'session', header: 'x-session-id', harnessId: null },
  { kind: 'thread', header: 'x-claude-code-agent-id', harnessId: 'claude' }, // a Claude Code subagent
  { kind: 'thread', header: 'thread-id', harnessId: 'codex' }, // equal to session-id on the main thread
  { kind: 'parent', header: 'x-opencode-parent-session-id', harnessId: 'opencode' },
  { kind: 'parent', header: 'x-parent-session-id', harnessId: null }, // opencode subagent sessions
]

export const headerSignals = (kind: HeaderSignalKind): readonly HeaderSignal[] =>
  HEADER_SIGNALS.filter((signal) => signal.kind === kind)

/** A tool call that starts a subagent, and the input field that holds the subagent's task prompt. */
export interface SubagentTool {
  harnessId: KnownHarnessId
  toolName: string
  promptField: string
}

/**
 * Subagent tools, for harnesses whose subagent calls may arrive without a thread header: a call whose
 * first user message is the prompt of such a tool call in a parent's response becomes a thread of
 * the parent's session (src/store/subagent-threads.ts). Claude Code named the tool `Task`, then `Agent`.
 */
export const SUBAGENT_TOOLS: readonly SubagentTool[] = [
  { harnessId: 'claude', toolName: 'Agent', promptField: 'prompt' },
  { harnessId: 'claude', toolName: 'Task', promptField: 'prompt' },
]

/**
 * Body fields that name a session, first match wins. Left out on purpose: `previous_response_id`
 * (it names the previous response, so it changes every turn; the store joins it to that response's
 * session instead) and the raw `metadata.user_id` (a user or device across sessions; only the
 * session id inside it is a session key), and Code Assist's `user_prompt_id` (it names one user prompt
 * of a gemini-cli session, so it changes every prompt; `request.session_id` is the session).
 */
export const BODY_SESSION_HINTS: readonly { field: keyof BodySessionHints; source: string }[] = [
  { field: 'metadataSessionId', source: 'body:metadata.user_id' },
  { field: 'conversationId', source: 'body:conversation' },
  { field: 'geminiSessionId', source: 'body:request.session_id' },
  { field: 'promptCacheKey', source: 'body:prompt_cache_key' },
]
