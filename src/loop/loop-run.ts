/**
 * The run of identical loop hashes a session is in, advanced by one turn. Pure, so the ingest
 * transaction and the tests share one definition of "three in a row".
 */

/** Consecutive turns with the same loop hash that make a loop. */
export const LOOP_THRESHOLD = 3

export interface LoopRun {
  /** sessions.loop_strikes after this turn: the length of the run the turn ends. */
  strikes: number
  /** This turn made the run reach the threshold (counted once per run, not per further repeat). */
  detected: boolean
}

/**
 * `previousHash` is the loop hash of the session's previous participating turn (by turn_index) and
 * `strikes` the session's run length after it; a different hash starts a new run of one.
 */
export function advanceLoopRun(previousHash: string | null, strikes: number, hash: string): LoopRun {
  const run = previousHash === hash ? Math.max(strikes, 1) + 1 : 1
  return { strikes: run, detected: run === LOOP_THRESHOLD }
}
