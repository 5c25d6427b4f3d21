/** The recorder's Prometheus metrics (sessiontap_recorder_*), registered on the registry it is given. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export function createRecorderMetrics(registry: Registry) {
  const registers = [registry]
  return {
    queueDepth: new Gauge({
      name: 'sessiontap_recorder_queue_depth',
      help: 'Turns waiting in memory for a writer',
      registers,
    }),
    parsePending: new Gauge({
      name: 'sessiontap_recorder_parse_pending',
      help: 'Exchanges handed over and not yet built into turns',
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'sessiontap_recorder_commit_seconds',
      help: 'Duration of one successful store.ingest call',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    retries: new Counter({
      name: 'sessiontap_recorder_retries_total',
      help: 'Commits retried after a retryable database error',
      registers,
    }),
    committed: new Counter({
      name: 'sessiontap_recorder_committed_total',
      help: 'Turns committed (new rows)',
      registers,
    }),
    alreadyCommitted: new Counter({
      name: 'sessiontap_recorder_already_committed_total',
      help: 'Turns whose org and request id were already committed (replays, retries)',
      registers,
    }),
    spooled: new Counter({
      name: 'sessiontap_recorder_spooled_total',
      help: 'Turns appended to the spool file, by reason (overflow, drain)',
      labelNames: ['reason'],
      registers,
    }),
    replayed: new Counter({
      name: 'sessiontap_recorder_replayed_total',
      help: 'Turns read back from the spool file',
      registers,
    }),
    deadLettered: new Counter({
      name: 'sessiontap_recorder_dead_lettered_total',
      help: 'Turns (or unreadable spool lines) written to the dead-letter file',
      registers,
    }),
    dropped: new Counter({
      name: 'sessiontap_recorder_dropped_total',
      help: 'Exchanges that did not become committed turns, by reason',
      labelNames: ['reason'],
      registers,
    }),
    envelopeRejected: new Counter({
      name: 'sessiontap_envelope_rejected_total',
      help: 'Session envelope values refused (invalid ids, client-chosen org, oversized headers), by source:reason',
      labelNames: ['rejection'],
      registers,
    }),
    journalOverflow: new Counter({
      name: 'sessiontap_recorder_journal_overflow_total',
      help: 'Exchanges recorded without a crash-journal entry because the journal was full',
      registers,
    }),
    journalReplayed: new Counter({
      name: 'sessiontap_recorder_journal_replayed_total',
      help: 'Exchanges read back from the crash journal of an earlier run and recorded again',
      registers,
    }),
    journalBytes: new Gauge({
      name: 'sessiontap_recorder_journal_bytes',
      help: 'Bytes the crash journal holds (exchanges not yet committed, spooled or dead-lettered)',
      registers,
    }),
    memoryReleases: new Counter({
      name: 'sessiontap_recorder_memory_releases_total',
      help: 'Full garbage collections run after a large commit backlog drained, to give its memory back',
      registers,
    }),
    redactions: new Counter({
      name: 'sessiontap_redactions_total',
      help: 'Credentials replaced by [REDACTED:<kind>] in turn content (and in the raw bodies) before anything was stored',
      registers,
    }),
    nodeCache: new Counter({
      name: 'sessiontap_node_cache_total',
      help: "Request messages found in (hit) or added to (miss) the parse workers' node caches, and entries evicted past their budget",
      labelNames: ['outcome'] as const,
      registers,
    }),
    turnsBuilt: new Counter({
      name: 'sessiontap_recorder_turns_built_total',
      help: 'Exchanges built into turns',
      registers,
    }),
  }
}

export type RecorderMetrics = ReturnType<typeof createRecorderMetrics>
