/**
 * Resolves the session envelope of one turn from request headers, Envoy metadata, body hints and the
 * chain: who (org, subject), which harness, which session. First match wins; see docs/hashing.md.
 */
import { createHash } from 'node:crypto'
import type { HeaderMap } from '../exchange.js'
import type { BodySessionHints } from '../providers/types.js'
import type { EnvelopeOptions } from './envelope-options.js'
import { harnessFromUserAgent, signalSource, signalsOf, signalValue } from './harness.js'
import { checkIdentifier, rejection } from './identifiers.js'
import { type EnvoyMetadata, resolveIdentity } from './identity.js'
import { readTapesHeaders, TAPES_HEADERS } from './tapes-headers.js'
import type { SessionEnvelope, SessionKey } from './turn.js'

/** Length of a synthetic harness_session_id: 16 hex chars (64 bits), as tapes. */
export const SYNTHETIC_ID_LENGTH = 16

export interface EnvelopeInput {
  /** Request headers, lowercase names, credentials already removed. */
  headers: HeaderMap
  /** Envoy metadata_context.filter_metadata: namespace → object. */
  metadata: EnvoyMetadata
  hints: BodySessionHints
  /** `ChainResult.conversationHash`: commits to the system prompt and the first message. */
  conversationHash: string | null
  /** Seeds the synthetic id when there is no chain (a body that did not parse). */
  requestId: string
}

interface SessionIdChoice {
  harnessSessionId: string
  sessionSource: string
  /** The harness the source itself implies (e.g. x-claude-code-session-id → claude). */
  impliedHarnessId: string | null
}

/** A valid id, or null; an invalid one is reported under `source`. */
function validId(source: string, value: string | undefined, rejected: string[]): string | null {
  if (value === undefined || value === '') return null
  const checked = checkIdentifier(value)
  if (checked.ok) return checked.value
  rejected.push(rejection(source, checked.reason))
  return null
}

/** The first valid session id: the x-tapes header, harness-native headers, then body hints. */
function chooseSessionId(
  tapesSessionId: string | null,
  headers: HeaderMap,
  hints: BodySessionHints,
  rejected: string[],
): SessionIdChoice | null {
  const candidates = [
    { source: `header:${TAPES_HEADERS.harnessSessionId}`, value: tapesSessionId ?? undefined, implied: null },
    ...signalsOf('session').map((signal) => ({
      source: signalSource(signal),
      value: signalValue(signal, headers, hints),
      implied: signal.harnessId,
    })),
  ]
  for (const { source, value, implied } of candidates) {
    const id = validId(source, value, rejected)
    if (id !== null) return { harnessSessionId: id, sessionSource: source, impliedHarnessId: implied }
  }
  return null
}

/** The first valid thread id that is not the session's own id (Codex repeats it on the main thread). */
function chooseThreadId(headers: HeaderMap, sessionId: string, rejected: string[]): string | null {
  for (const signal of signalsOf('thread')) {
    const id = validId(signalSource(signal), signalValue(signal, headers, {}), rejected)
    if (id !== null && id !== sessionId) return id
  }
  return null
}

/** The parent session a harness header names, keyed by the harness the header implies. */
function headerParent(headers: HeaderMap, childHarnessId: string, rejected: string[]): SessionKey | null {
  for (const signal of signalsOf('parent')) {
    const id = validId(signalSource(signal), signalValue(signal, headers, {}), rejected)
    if (id !== null) return { harnessId: signal.harnessId ?? childHarnessId, harnessSessionId: id }
  }
  return null
}

function syntheticId(conversationHash: string | null, requestId: string): string {
  const seed = conversationHash ?? createHash('sha256').update(`request:${requestId}`).digest('hex')
  return seed.slice(0, SYNTHETIC_ID_LENGTH)
}

export function resolveEnvelope(
  input: EnvelopeInput,
  options: EnvelopeOptions,
): { envelope: SessionEnvelope; rejected: string[] } {
  const { headers } = input
  const rejected: string[] = []
  const tapes = readTapesHeaders(headers, rejected)
  const identity = resolveIdentity(headers, input.metadata, options, rejected)
  const userAgent = harnessFromUserAgent(headers['user-agent'])

  const chosen = chooseSessionId(tapes.harnessSessionId, headers, input.hints, rejected) ?? {
    harnessSessionId: syntheticId(input.conversationHash, input.requestId),
    sessionSource: 'synthetic',
    impliedHarnessId: null,
  }
  const harnessId = tapes.harnessId ?? userAgent?.harnessId ?? chosen.impliedHarnessId ?? 'unknown'

  const envelope: SessionEnvelope = {
    orgId: identity.orgId,
    authSubject: identity.authSubject,
    harnessId,
    harnessSessionId: chosen.harnessSessionId,
    sessionSource: chosen.sessionSource,
    harnessVersion: tapes.harnessVersion ?? (userAgent?.harnessId === harnessId ? userAgent.version : null),
    cwd: tapes.cwd,
    name: tapes.name,
    // Without a parent harness id the parent is looked up in the child's harness (tapes' rule).
    parent: tapes.parentHarnessSessionId
      ? { harnessId: tapes.parentHarnessId ?? harnessId, harnessSessionId: tapes.parentHarnessSessionId }
      : headerParent(headers, harnessId, rejected),
    harnessMetadata: tapes.metadata ?? {},
    threadId: chooseThreadId(headers, chosen.harnessSessionId, rejected),
    endSession: headers[options.sessionEndHeader]?.trim().toLowerCase() === 'true',
  }
  return { envelope, rejected }
}
