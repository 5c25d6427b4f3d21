/**
 * A Turn: one LLM call, normalized, hashed and assigned to a session. Built by the recorder from
 * an Exchange; committed by the store in one transaction. Everything the store writes is here.
 */
import type { Api, Provider, ProviderTiming, Usage } from '../providers/types.js'
import type { SubagentSpawn } from './subagent.js'

/** The nil UUID: the org of traffic that carries no trusted org. */
export const NIL_ORG = '00000000-0000-0000-0000-000000000000'

export interface SessionKey {
  harnessId: string
  harnessSessionId: string
}

export interface SessionEnvelope extends SessionKey {
  orgId: string
  authSubject: string | null
  /** Which header or body field gave the session id, or 'synthetic'. */
  sessionSource: string
  harnessVersion: string | null
  cwd: string | null
  name: string | null
  /** The parent session, keyed by the parent's own harness id (a fork may cross harnesses). */
  parent: SessionKey | null
  harnessMetadata: Record<string, unknown>
  /** Thread or agent id within the session (subagents), when the harness says. */
  threadId: string | null
  /** The client asked to end the session after this turn. */
  endSession: boolean
}

/** One content-addressed message node. `content` is the projected JSON object that was hashed. */
export interface ChainNode {
  hash: string
  parentHash: string | null
  role: string
  content: unknown
}

/** One HTTP body as stored for viewing: decoded (no content-encoding), then compressed. */
export interface RawBody {
  /** The compressed bytes (RawBodies.encoding) of the decoded body, at most RAW_BODY_MAX_BYTES of it. */
  bytes: Uint8Array
  /** Decoded bytes of the body as captured, before any cut. */
  size: number
  /** The stored bytes are not the whole body: cut at the cap, or the capture or its decoding ended early. */
  truncated: boolean
}

/** What the call's request and response bodies said, byte for byte, for the raw view. */
export interface RawBodies {
  /** How `bytes` are compressed (src/store/raw-body-codec.ts). */
  encoding: 'br'
  request: RawBody
  response: RawBody
}

export interface Turn {
  /** Envoy's x-request-id (or minted): with orgId, the idempotency key. */
  requestId: string
  envelope: SessionEnvelope
  provider: Provider
  api: Api
  model: string | null
  responseModel: string | null
  statusCode: number | null
  isStreaming: boolean
  isComplete: boolean
  stopReason: string | null
  usage: Usage
  /** USD, or null when the model's price is unknown. */
  costUsd: number | null
  startedAt: Date
  latencyMs: number | null
  ttftMs: number | null
  /** Durations the provider reported (Ollama, nanoseconds); absent or null: none (and turns spooled before it). */
  providerTiming?: ProviderTiming | null
  /** Nodes from the root to the response, parent before child (the request chain, then the response). */
  nodes: ChainNode[]
  requestLeafHash: string | null
  responseHash: string | null
  /**
   * With several choices (OpenAI `n`, Gemini `candidateCount`): every choice's response node in index
   * order, the first being responseHash. Absent or null: one choice (and turns spooled before it).
   */
  choiceHashes?: string[] | null
  providerResponseId: string | null
  /**
   * The response this request continues (Responses `previous_response_id`): a turn whose session is
   * synthetic joins the session of the turn that produced it (src/store/ingest.ts). Absent: none.
   */
  previousResponseId?: string | null
  /**
   * Subagents this call's response asked for (SUBAGENT_TOOLS calls): a later call whose task prompt
   * hashes the same joins this turn's session as a thread of its own (src/store/subagent-threads.ts).
   * Absent or null: none.
   */
  subagentSpawns?: SubagentSpawn[] | null
  /** The hash of the task prompt the call opens with (src/session/subagent.ts); absent or null: none. */
  taskPromptHash?: string | null
  /**
   * The turn whose response asked for this subagent call; set by the store at ingest when the task
   * prompt matches (src/store/subagent-threads.ts), never by the recorder. Absent or null: none.
   */
  parentTurnId?: string | null
  errorType: string | null
  errorMessage: string | null
  /**
   * What this call asked, without call ids (src/loop/loop-hash.ts): the same hash on three consecutive
   * turns flags the session as looping. Absent or null: no request content (and turns spooled before it).
   */
  loopHash?: string | null
  /** The original bodies (SESSIONTAP_STORE_RAW); absent or null: not stored. */
  rawBodies?: RawBodies | null
}
