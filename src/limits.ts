/**
 * The bounds on memory and waiting, in one place, so that a deployment guide (docs/deploy.md, "Sizing")
 * and the code cannot disagree. Each is the default of a module's option; tests pass smaller ones.
 */
const MiB = 1024 * 1024

export const LIMITS = {
  /** Largest ext_proc message either way: Envoy sends a buffered body as one message. */
  grpcMessageBytes: 256 * MiB,
  /** Largest body after undoing its content-encoding (a zip bomb stops here, or at the ratio below). */
  decodedBodyBytes: 64 * MiB,
  /**
   * A compressed body may grow at most this many times its compressed size (JSON compresses 5-20x;
   * a bomb 1000x and more), but always to decodedBodyFloorBytes.
   */
  decodedBodyRatio: 200,
  decodedBodyFloorBytes: 4 * MiB,
  /** Raw body bytes of the built turns waiting for a writer; beyond it turns are spooled to disk. */
  queueBytes: 256 * MiB,
  /** Raw body bytes of exchanges waiting for a parse worker; beyond it they are dropped (parse_backlog). */
  parsePendingBytes: 256 * MiB,
  /** Exchanges with at least this many raw body bytes are parsed on a worker of their own (the big-body lane). */
  bigBodyBytes: 4 * MiB,
  /** A parse worker holding one exchange longer than this is replaced (parse_timeout). */
  parseJobTimeoutMs: 60_000,
  /**
   * Old-generation heap of each parse worker: a body whose parse blows it kills that worker (worker_crashed),
   * never the process. Four times the largest decoded body leaves room for its JSON.
   */
  parseWorkerHeapMb: 1024,
  /**
   * Estimated heap bytes of each parse worker's node cache (chain nodes by prefix, so a resent history
   * is not hashed again); the least recently used nodes are evicted past it.
   */
  nodeCacheBytes: 64 * MiB,
  /** Bytes the crash journal may hold; past it exchanges are recorded without a journal entry (counted). */
  journalBytes: 1024 * MiB,
  /** A journal segment file is closed past this size, and removed once every entry in it is settled. */
  journalSegmentBytes: 64 * MiB,
  /** Decoded bytes of each body kept for the raw view; beyond it the stored body is cut and flagged. */
  rawBodyBytes: 8 * MiB,
} as const
