/** What the ingest transaction takes per turn, shared by its steps (ingest.ts and the joins before it). */
import type { Turn } from '../session/turn.js'

/** A turn with its nodes as the ingest statement takes them. */
export interface IngestTurn {
  turn: Turn
  /** nodesParameter() of the encoded nodes (binary jsonb Buffer or JSON text), or storableJson(turn.nodes). */
  nodes: Buffer | string
  /**
   * A subagent call whose parent is earlier in the same batch: the parent's request id, whose new
   * turn id becomes turn.parentTurnId (src/store/subagent-threads.ts).
   */
  parentRequestId?: string
}
