/**
 * Every setting of `sessiontap serve`, declared once: environment variable, CLI flag, zod type, default
 * and the line of help that the CLI and the README's configuration reference show.
 */
import { z } from 'zod'
import { apiTokensSchema } from '../http/tokens.js'
import { LOG_LEVELS } from '../log.js'
import { providerHostsSchema } from '../providers/hosts.js'
import { DEFAULT_ENVELOPE_OPTIONS, headerNameSchema, type MetadataPath } from '../session/envelope-options.js'
import { invalidPattern, type RedactionPattern } from '../session/redaction.js'

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes')
const int = (min: number) => z.coerce.number().int().min(min)
const address = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'host:port')
const headerName = headerNameSchema
/** The envelope's own defaults, so the option table shows and applies the same ones. */
const ENVELOPE = DEFAULT_ENVELOPE_OPTIONS
/** `namespace:field.field` inside Envoy's metadata_context, e.g. `envoy.filters.http.jwt_authn:payload.org_id`. */
const metadataPath = z
  .string()
  .regex(/^[^:]+:[^.]+(\.[^.]+)*$/, 'namespace:field.path')
  .transform((s): MetadataPath => {
    const at = s.indexOf(':')
    return { namespace: s.slice(0, at), path: s.slice(at + 1).split('.') }
  })

/** `{"kind": "regex", ...}` as text, each regex compiled to check it; kinds are word characters. */
const redactPatternsSchema = z.string().transform((text, ctx): RedactionPattern[] => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not JSON: expected {"kind": "regular expression", ...}' })
    return z.NEVER
  }
  const shape = z.record(z.string().regex(/^\w{1,64}$/), z.string().min(1)).safeParse(parsed)
  if (!shape.success) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected {"kind": "regular expression", ...} with word-character kinds',
    })
    return z.NEVER
  }
  const patterns = Object.entries(shape.data).map(([kind, source]) => ({ kind, source }))
  const invalid = invalidPattern(patterns)
  if (invalid) {
    ctx.addIssue({ code: 'custom', message: invalid })
    return z.NEVER
  }
  return patterns
})

export interface OptionSpec {
  env: string
  flag: string
  help: string
  schema: z.ZodType
  /** Shown in help; undefined means "unset". */
  defaultText?: string
  /** Holds credentials: a bad value is reported without echoing it. */
  secret?: boolean
}

export const SERVE_OPTIONS = {
  grpcAddress: {
    env: 'SESSIONTAP_GRPC_ADDRESS',
    flag: '--grpc-address',
    help: 'ext_proc gRPC listen address (h2c), host:port',
    schema: address.default('127.0.0.1:50051'),
    defaultText: '127.0.0.1:50051',
  },
  grpcTlsCert: {
    env: 'SESSIONTAP_GRPC_TLS_CERT',
    flag: '--grpc-tls-cert',
    help: 'PEM certificate chain file: serve ext_proc over TLS instead of h2c (with --grpc-tls-key)',
    schema: z.string().min(1).optional(),
  },
  grpcTlsKey: {
    env: 'SESSIONTAP_GRPC_TLS_KEY',
    flag: '--grpc-tls-key',
    help: 'PEM private key file of that certificate',
    schema: z.string().min(1).optional(),
  },
  grpcTlsClientCa: {
    env: 'SESSIONTAP_GRPC_TLS_CLIENT_CA',
    flag: '--grpc-tls-client-ca',
    help: 'PEM CA file: require client certificates it signed (mTLS; e.g. Envoy in another pod)',
    schema: z.string().min(1).optional(),
  },
  httpAddress: {
    env: 'SESSIONTAP_HTTP_ADDRESS',
    flag: '--http-address',
    help: 'admin HTTP address: /healthz, /readyz, /metrics, the read API /v1 and the page /ui',
    schema: address.default('127.0.0.1:9090'),
    defaultText: '127.0.0.1:9090',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    flag: '--database-url',
    help: 'Postgres connection URL; unset = the embedded database in the data dir',
    secret: true,
    schema: z.string().url().optional(),
  },
  dataDir: {
    env: 'SESSIONTAP_DATA_DIR',
    flag: '--data-dir',
    help: 'folder of the embedded database, the spool and the dead-letter file',
    schema: z.string().min(1).default('./.sessiontap'),
    defaultText: './.sessiontap',
  },
  logLevel: {
    env: 'SESSIONTAP_LOG_LEVEL',
    flag: '--log-level',
    help: `log level: ${LOG_LEVELS.join(', ')}`,
    schema: z.enum(LOG_LEVELS).default('info'),
    defaultText: 'info',
  },
  captureMaxBytes: {
    env: 'SESSIONTAP_CAPTURE_MAX_BYTES',
    flag: '--capture-max-bytes',
    help: 'capture budget per direction of one exchange; larger exchanges pass through unrecorded',
    schema: int(1024).default(32 * 1024 * 1024),
    defaultText: '33554432 (32 MiB)',
  },
  stripEnvelopeHeaders: {
    env: 'SESSIONTAP_STRIP_ENVELOPE_HEADERS',
    flag: '--strip-envelope-headers',
    help: 'remove x-tapes-* request headers before they go upstream (synchronous mode only)',
    schema: bool.default(true),
    defaultText: 'true',
  },
  shutdownTimeoutMs: {
    env: 'SESSIONTAP_SHUTDOWN_TIMEOUT_MS',
    flag: '--shutdown-timeout-ms',
    help: 'on SIGTERM/SIGINT, how long in-flight exchanges and queued turns may take to finish',
    schema: int(0).default(10_000),
    defaultText: '10000',
  },
  migrate: {
    env: 'SESSIONTAP_MIGRATE',
    flag: '--migrate',
    help: 'apply database migrations at start',
    schema: bool.default(true),
    defaultText: 'true',
  },
  dbPoolSize: {
    env: 'SESSIONTAP_DB_POOL_SIZE',
    flag: '--db-pool-size',
    help: 'Postgres connections per sidecar',
    schema: int(1).default(8),
    defaultText: '8',
  },
  writers: {
    env: 'SESSIONTAP_WRITERS',
    flag: '--writers',
    help: 'turns committed concurrently',
    schema: int(1).default(4),
    defaultText: '4',
  },
  commitBatch: {
    env: 'SESSIONTAP_COMMIT_BATCH',
    flag: '--commit-batch',
    help: 'most queued turns one writer commits in one transaction (group commit; only turns already waiting)',
    schema: int(1).max(256).default(16),
    defaultText: '16',
  },
  queueSize: {
    env: 'SESSIONTAP_QUEUE_SIZE',
    flag: '--queue-size',
    help: 'turns waiting for the database before they overflow to the spool file',
    schema: int(1).default(10_000),
    defaultText: '10000',
  },
  parseWorkers: {
    env: 'SESSIONTAP_PARSE_WORKERS',
    flag: '--parse-workers',
    help: 'worker threads that decode, parse and hash exchanges (0 = on the main thread)',
    schema: int(0).default(1),
    defaultText: '1',
  },
  idleTimeoutMs: {
    env: 'SESSIONTAP_IDLE_TIMEOUT_MS',
    flag: '--idle-timeout-ms',
    help: 'sessions idle longer than this are ended (end_reason idle)',
    schema: int(1000).default(30 * 60 * 1000),
    defaultText: '1800000 (30 min)',
  },
  orgHeader: {
    env: 'SESSIONTAP_ORG_HEADER',
    flag: '--org-header',
    help: 'trusted header the gateway sets with the org id (a UUID)',
    schema: headerName.default(ENVELOPE.orgHeader),
    defaultText: ENVELOPE.orgHeader,
  },
  subjectHeader: {
    env: 'SESSIONTAP_SUBJECT_HEADER',
    flag: '--subject-header',
    help: 'trusted header the gateway sets with the authenticated subject',
    schema: headerName.default(ENVELOPE.subjectHeader),
    defaultText: ENVELOPE.subjectHeader,
  },
  orgMetadata: {
    env: 'SESSIONTAP_ORG_METADATA',
    flag: '--org-metadata',
    help: 'org id from Envoy dynamic metadata, namespace:field.path (wins over the header)',
    schema: metadataPath.optional(),
  },
  subjectMetadata: {
    env: 'SESSIONTAP_SUBJECT_METADATA',
    flag: '--subject-metadata',
    help: 'subject from Envoy dynamic metadata, namespace:field.path',
    schema: metadataPath.optional(),
  },
  identityHeaders: {
    env: 'SESSIONTAP_IDENTITY_HEADERS',
    flag: '--identity-headers',
    help: 'take the org and subject from the trusted headers too; false: only from Envoy metadata (SESSIONTAP_ORG_METADATA), the headers ignored',
    schema: bool.default(ENVELOPE.identityHeaders),
    defaultText: String(ENVELOPE.identityHeaders),
  },
  allowClientOrg: {
    env: 'SESSIONTAP_ALLOW_CLIENT_ORG',
    flag: '--allow-client-org',
    help: `let the client header ${ENVELOPE.clientOrgHeader} choose the org when no trusted org is present`,
    schema: bool.default(ENVELOPE.allowClientOrg),
    defaultText: String(ENVELOPE.allowClientOrg),
  },
  sessionEndHeader: {
    env: 'SESSIONTAP_SESSION_END_HEADER',
    flag: '--session-end-header',
    help: 'request header whose value true ends the session after its turn',
    schema: headerName.default(ENVELOPE.sessionEndHeader),
    defaultText: ENVELOPE.sessionEndHeader,
  },
  pricesFile: {
    env: 'SESSIONTAP_PRICES_FILE',
    flag: '--prices-file',
    help: 'JSON file of model prices that replace or extend the built-in table',
    schema: z.string().min(1).optional(),
  },
  providerHosts: {
    env: 'SESSIONTAP_PROVIDER_HOSTS',
    flag: '--provider-hosts',
    help: 'provider names for more hosts, comma list of host=name or host:port=name (llm.internal=vllm,localhost:1234=lmstudio); wins over the built-in hosts',
    schema: providerHostsSchema.default({}),
  },
  journalSyncMs: {
    env: 'SESSIONTAP_JOURNAL_SYNC_MS',
    flag: '--journal-sync-ms',
    help: 'crash journal: every finished exchange is fsynced under the data dir within this many ms and recorded again after a crash (SIGKILL, OOM); 0 turns it off',
    schema: int(0).default(100),
    defaultText: '100',
  },
  storeContent: {
    env: 'SESSIONTAP_STORE_CONTENT',
    flag: '--store-content',
    help: 'store message content; false keeps hashes, usage and metadata only',
    schema: bool.default(true),
    defaultText: 'true',
  },
  storeRaw: {
    env: 'SESSIONTAP_STORE_RAW',
    flag: '--store-raw',
    help: "also store each turn's original request and response bodies (decoded, compressed) for the raw view; off when store-content is false",
    schema: bool.default(true),
    defaultText: 'true',
  },
  redact: {
    env: 'SESSIONTAP_REDACT',
    flag: '--redact',
    help: 'replace credentials found in content and raw bodies (API keys, AWS and GitHub tokens, JWTs, private keys) by [REDACTED:<kind>] before hashing and storing',
    schema: bool.default(true),
    defaultText: 'true',
  },
  redactPatterns: {
    env: 'SESSIONTAP_REDACT_PATTERNS',
    flag: '--redact-patterns',
    help: 'more patterns to redact, a JSON object of kind → regular expression, e.g. {"acme_key":"ACME-[0-9]{8}"}',
    schema: redactPatternsSchema.default([]),
  },
  apiTokens: {
    env: 'SESSIONTAP_API_TOKENS',
    flag: '--api-tokens',
    help: 'read API and page access: comma list of token:org-uuid (a token sees only its org); unset = both off',
    schema: apiTokensSchema.default([]),
    secret: true,
  },
  loopBlock: {
    env: 'SESSIONTAP_LOOP_BLOCK',
    flag: '--loop-block',
    help: 'answer 429 to further requests of a session flagged as looping (synchronous mode only)',
    schema: bool.default(false),
    defaultText: 'false',
  },
} satisfies Record<string, OptionSpec>
