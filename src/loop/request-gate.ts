/**
 * The loop gate: at request headers, a request of a session flagged as looping gets a 429 local reply
 * instead of going upstream (synchronous mode only; StreamOptions.requestGate). The session is named
 * by the same envelope rules as its turn, org included, from the headers and the Envoy metadata that
 * came with them.
 */
import type { HeaderMap, LocalReply, RequestGate } from '../exchange.js'
import { resolveEnvelope } from '../session/envelope.js'
import type { EnvelopeOptions } from '../session/envelope-options.js'
import type { FlaggedKey, FlaggedSessions } from './flagged-sessions.js'

export const LOOP_REPLY: LocalReply = {
  status: 429,
  body: JSON.stringify({
    error: {
      type: 'session_loop_detected',
      message:
        'sessiontap stopped this session: its agent sent the same request content three turns in a row. Start a new session.',
    },
  }),
  details: 'sessiontap_session_loop_detected',
}

/**
 * The session a request belongs to as far as its headers and metadata tell, resolved by the same
 * envelope rules as its turn; null when only the body or the chain could name it (synthetic ids, body hints).
 */
export function sessionKeyAtHeaders(
  headers: HeaderMap,
  metadata: Parameters<RequestGate>[1],
  options: EnvelopeOptions,
): FlaggedKey | null {
  const { envelope } = resolveEnvelope(
    { headers, metadata, hints: {}, conversationHash: null, requestId: '' },
    options,
  )
  return envelope.sessionSource === 'synthetic'
    ? null
    : { orgId: envelope.orgId, harnessId: envelope.harnessId, harnessSessionId: envelope.harnessSessionId }
}

export function createLoopGate(flagged: FlaggedSessions, options: EnvelopeOptions): RequestGate {
  return (headers, metadata) => {
    // Nothing flagged, nothing to resolve: the common case costs one comparison.
    if (flagged.size === 0) return undefined
    const key = sessionKeyAtHeaders(headers, metadata, options)
    return key && flagged.has(key) ? LOOP_REPLY : undefined
  }
}
