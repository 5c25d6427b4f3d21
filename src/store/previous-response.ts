/**
 * The lookup step before the session upsert: a Responses API turn that continues a stored response
 * (`previous_response_id`) resends only its new input, so the envelope could only give it a
 * synthetic session of its own. It joins the session of the turn that produced that response,
 * looked up in the same org only, or earlier in the same batch.
 */
import type { SessionKey, Turn } from '../session/turn.js'
import type { SqlSession } from './driver.js'

/** The session source of a turn that joined the session of the response it continues. */
export const PREVIOUS_RESPONSE_SOURCE = 'previous_response'

const responseKey = (orgId: string, responseId: string): string => JSON.stringify([orgId, responseId])

function continuedResponse(turn: Turn): string | null {
  const previous = turn.previousResponseId ?? null
  // Only a synthetic session gives way: an explicit session id is the client's own word.
  return previous !== null && turn.envelope.sessionSource === 'synthetic' ? previous : null
}

async function committedSessions(
  tx: SqlSession,
  keys: Array<{ org: string; response_id: string }>,
): Promise<Map<string, SessionKey>> {
  const { rows } = await tx.query<{
    org: string
    response_id: string
    harness_id: string
    harness_session_id: string
  }>(
    // A response id is the provider's and unique in practice; a repeat takes the earliest turn.
    `SELECT DISTINCT ON (k.org, k.response_id) k.org, k.response_id, s.harness_id, s.harness_session_id
     FROM jsonb_to_recordset($1::jsonb) AS k(org uuid, response_id text)
     JOIN turns t ON t.org_id = k.org AND t.provider_response_id = k.response_id
     JOIN sessions s ON s.org_id = t.org_id AND s.id = t.session_id
     ORDER BY k.org, k.response_id, t.started_at, t.id`,
    [JSON.stringify(keys)],
  )
  return new Map(
    rows.map((row) => [
      responseKey(row.org, row.response_id),
      { harnessId: row.harness_id, harnessSessionId: row.harness_session_id },
    ]),
  )
}

/**
 * The items with each continuing turn moved into the session of the response it continues, when
 * that response is committed or earlier in `items`; otherwise the turn keeps its synthetic session
 * (it is not re-homed later). One query, and none when no turn continues a response.
 */
export async function joinPreviousResponses<T extends { turn: Turn }>(
  tx: SqlSession,
  items: readonly T[],
): Promise<readonly T[]> {
  const keys = new Map<string, { org: string; response_id: string }>()
  for (const { turn } of items) {
    const previous = continuedResponse(turn)
    if (previous !== null) {
      keys.set(responseKey(turn.envelope.orgId, previous), {
        org: turn.envelope.orgId,
        response_id: previous,
      })
    }
  }
  if (keys.size === 0) return items

  const sessions = await committedSessions(tx, [...keys.values()])
  // In queue order, so a chain of continuations inside one batch follows its earlier links.
  return items.map((item) => {
    const { turn } = item
    const previous = continuedResponse(turn)
    const target = previous === null ? undefined : sessions.get(responseKey(turn.envelope.orgId, previous))
    const joined: T = target
      ? {
          ...item,
          turn: {
            ...turn,
            envelope: { ...turn.envelope, ...target, sessionSource: PREVIOUS_RESPONSE_SOURCE },
          },
        }
      : item
    const own = joined.turn.providerResponseId
    const key = own === null ? null : responseKey(turn.envelope.orgId, own)
    if (key !== null && !sessions.has(key)) {
      sessions.set(key, {
        harnessId: joined.turn.envelope.harnessId,
        harnessSessionId: joined.turn.envelope.harnessSessionId,
      })
    }
    return joined
  })
}
