/**
 * A built turn on its way to the database, and the spool file it was read back from (if any). Each
 * turn is claimed exactly once (committed, spooled or dead-lettered) and settled once its fate is
 * durable; a replayed file may go once every turn read from it is settled.
 */
import type { Turn } from '../session/turn.js'
import { decodeNodes } from '../store/node-records.js'

/** A spool file being replayed: `onComplete` runs once it is read to its end and every turn from it is settled. */
export class ReplayBatch {
  private outstanding = 0
  private readDone = false

  constructor(
    readonly file: string,
    private readonly onComplete: (batch: ReplayBatch) => void,
  ) {}

  /** One more turn read from the file. */
  add(): void {
    this.outstanding++
  }

  settleOne(): void {
    this.outstanding--
    this.completeIfDone()
  }

  endOfFile(): void {
    this.readDone = true
    this.completeIfDone()
  }

  private completeIfDone(): void {
    if (this.readDone && this.outstanding === 0) this.onComplete(this)
  }
}

export class PendingTurn {
  private claimed = false

  constructor(
    /** From a parse worker: `turn.nodes` keep hashes and roles only, the content is in `encodedNodes`. */
    readonly turn: Turn,
    readonly encodedNodes: Uint8Array | undefined,
    /** Raw body bytes of its exchange (or its spool line): what the queue's byte bound counts. */
    readonly weight: number,
    readonly batch?: ReplayBatch,
    /** Called once the turn's fate is durable: its crash-journal entry may go. */
    private readonly onSettled?: () => void,
  ) {
    batch?.add()
  }

  /** True for the first caller only: nothing else may commit, spool or dead-letter this turn. */
  claim(): boolean {
    if (this.claimed) return false
    this.claimed = true
    return true
  }

  /** Its fate is durable (committed, spooled, dead-lettered). */
  settle(): void {
    this.batch?.settleOne()
    this.onSettled?.()
  }

  /** The whole turn, content included, for the spool and dead-letter files (rare paths: decoded here). */
  fullTurn(): Turn {
    return this.encodedNodes ? { ...this.turn, nodes: decodeNodes(this.encodedNodes) } : this.turn
  }
}
