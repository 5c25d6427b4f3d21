/**
 * Harness-native session signals, as tables: which agent harness sent a call (user agent), the
 * session, thread and parent ids harnesses and routers put in their own headers, and the session
 * keys a body can carry. Adding a harness is adding rows here (and a test from its real traffic).
 */
import type { HeaderMap } from '../exchange.js'
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
export const SIGNAL_KINDS = ['session', 'thread', 'parent'] as const
export type SignalKind = (typeof SIGNAL_KINDS)[number]

/** Where a signal is read: a request header, or a session hint the provider parser found in the body. */
export type SignalSource = { header: string } | { body: keyof BodySessionHints; field: string }

export type Signal = {
  kind: SignalKind
  /** The harness the signal implies, used only when the user agent names none; null for routers. */
  harnessId: KnownHarnessId | null
} & SignalSource

/**
 * Every session, thread and parent signal, header or body, one row each. Within a kind the first
 * valid one wins, so order matters: headers before body fields.
 * Left out on purpose (not session keys): `x-opencode-request` (opencode's user-message id),
 * `x-opencode-project`, `x-codex-installation-id` and `x-gemini-api-privileged-user-id` (one per
 * install, across sessions), `x-client-request-id` (Codex repeats its thread id there).
 */
export const SIGNALS: readonly Signal[] = [
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
  // Body fields (the provider parsers' BodySessionHints). Left out on purpose: previous_response_id
  // (it changes every turn; the store joins it to that response's session instead), the raw
  // metadata.user_id (a user or device across sessions; only the session id inside it is a key) and
  // Code Assist's user_prompt_id (one prompt of a gemini-cli session; request.session_id is the session).
  { kind: 'session', body: 'metadataSessionId', field: 'metadata.user_id', harnessId: null },
  { kind: 'session', body: 'conversationId', field: 'conversation', harnessId: null },
  { kind: 'session', body: 'geminiSessionId', field: 'request.session_id', harnessId: null },
  { kind: 'session', body: 'promptCacheKey', field: 'prompt_cache_key', harnessId: null },
]

export const signalsOf = (kind: SignalKind): readonly Signal[] =>
  SIGNALS.filter((signal) => signal.kind === kind)

/** How a signal is named where it was found: `header:<name>` or `body:<field>` (the envelope's session_source). */
export const signalSource = (signal: SignalSource): string =>
  'header' in signal ? `header:${signal.header}` : `body:${signal.field}`

/** The signal's value in this request, if any. */
export const signalValue = (
  signal: SignalSource,
  headers: HeaderMap,
  hints: BodySessionHints,
): string | undefined => ('header' in signal ? headers[signal.header] : hints[signal.body])

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
