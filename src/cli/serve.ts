/**
 * `sessiontap serve`: the sidecar. Opens the store (embedded by default), starts the recorder, the
 * ext_proc gRPC server and the admin HTTP server, and shuts down gracefully on SIGTERM/SIGINT.
 */

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { startAdminServer } from '../admin/http.js'
import { createRegistry } from '../admin/registry.js'
import { createReadApiRoute } from '../api/routes.js'
import { ConfigError, loadOptions, type ServeConfig } from '../config/load.js'
import { SERVE_OPTIONS } from '../config/options.js'
import { createExtProcMetrics } from '../extproc/metrics.js'
import { type ExtProcTls, startExtProcServer } from '../extproc/server.js'
import { createLogger, type Logger } from '../log.js'
import { FlaggedSessions } from '../loop/flagged-sessions.js'
import { createLoopMetrics, loopCommitHook } from '../loop/loop-watch.js'
import { createLoopGate } from '../loop/request-gate.js'
import { loadPriceTable } from '../pricing/load.js'
import { createRecorder } from '../recorder/recorder.js'
import { envelopeOptionsSchema } from '../session/index.js'
import { openStore, runMigrations } from '../store/index.js'
import { recentlyFlaggedSessions } from '../store/loop-flags.js'
import { createSessionPageRoute } from '../web/routes.js'
import type { CommandSpec } from './args.js'

export const SERVE_COMMAND: CommandSpec = {
  path: 'serve',
  summary: 'run the sidecar: ext_proc gRPC server, recorder, admin HTTP',
  usage: '[flags]',
  description: `Run the sidecar: the ext_proc gRPC server Envoy sends traffic to, the recorder that turns
exchanges into sessions and turns, and the admin HTTP server (/healthz, /readyz, /metrics, the read
API /v1 and the page /ui). Without DATABASE_URL it records into an embedded database in the data
dir, which one process at a time can open. Stops gracefully on SIGTERM or Ctrl-C.`,
  options: SERVE_OPTIONS,
  positionals: [0, 0],
  examples: [
    '$ sessiontap serve',
    '$ DATABASE_URL=postgres://sessiontap@db:5432/sessiontap sessiontap serve --grpc-address 0.0.0.0:50051',
    '$ SESSIONTAP_API_TOKENS="$TOKEN:00000000-0000-0000-0000-000000000000" sessiontap serve',
  ],
}

const MIGRATE_OPTIONS = { databaseUrl: SERVE_OPTIONS.databaseUrl, dataDir: SERVE_OPTIONS.dataDir }

export const MIGRATE_COMMAND: CommandSpec = {
  path: 'migrate',
  summary: 'apply database migrations and exit (serve does it at start by default)',
  usage: '[flags]',
  description: `Apply the database migrations (migrations/NNNN_*.sql) to DATABASE_URL, or to the embedded
database in the data dir, and exit. serve applies them at start unless SESSIONTAP_MIGRATE=false.`,
  options: MIGRATE_OPTIONS,
  positionals: [0, 0],
  examples: [
    '$ DATABASE_URL=postgres://sessiontap@db:5432/sessiontap sessiontap migrate',
    '$ sessiontap migrate --data-dir ./.sessiontap',
  ],
}

export interface RunningSidecar {
  grpcAddress: string
  httpAddress: string
  /** Stops everything; resolves when the process may exit. */
  stop(reason: string): Promise<void>
}

export const EMBEDDED_DURABILITY_WARNING =
  'embedded database: commits survive a crash of sessiontap but not of the machine (no fsync); set DATABASE_URL for durable commits'

/** The store settings of a config; only the database options are read (the sessions command has no others). */
export function storeOptions(
  config: Pick<ServeConfig, 'databaseUrl' | 'dataDir' | 'dbPoolSize' | 'migrate'>,
) {
  return {
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    dataDir: config.dataDir,
    poolSize: config.dbPoolSize,
    migrate: config.migrate,
  }
}

/** The ext_proc TLS files, read at start; a half-given pair or an unreadable file is a config error. */
export function extProcTls(config: ServeConfig): ExtProcTls | undefined {
  const { grpcTlsCert: cert, grpcTlsKey: key, grpcTlsClientCa: clientCa } = config
  if (cert === undefined && key === undefined && clientCa === undefined) return undefined
  if (cert === undefined || key === undefined) {
    throw new ConfigError([
      'SESSIONTAP_GRPC_TLS_CERT and SESSIONTAP_GRPC_TLS_KEY go together (and the client CA needs both)',
    ])
  }
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new ConfigError([`cannot read the ext_proc TLS ${what} ${file}: ${(err as Error).message}`])
    }
  }
  return {
    cert: read(cert, 'certificate'),
    key: read(key, 'key'),
    ...(clientCa === undefined ? {} : { clientCa: read(clientCa, 'client CA') }),
  }
}

export async function startSidecar(
  config: ServeConfig,
  logger: Logger = createLogger(config.logLevel),
): Promise<RunningSidecar> {
  // Read before anything starts, so a bad file stops the start with nothing to undo.
  const tls = extProcTls(config)
  // The shipped Envoy configs strip client-sent copies of the default names only.
  const identityHeaders = [
    ['SESSIONTAP_ORG_HEADER', config.orgHeader, SERVE_OPTIONS.orgHeader.defaultText],
    ['SESSIONTAP_SUBJECT_HEADER', config.subjectHeader, SERVE_OPTIONS.subjectHeader.defaultText],
  ] as const
  for (const [option, header, usual] of identityHeaders) {
    if (header !== usual) {
      logger.warn('trusted identity header renamed: make Envoy remove client-sent copies of it', {
        option,
        header,
      })
    }
  }
  const registry = createRegistry()
  const metrics = createExtProcMetrics(registry)
  const buildOptions = {
    envelope: envelopeOptionsSchema.parse({
      orgHeader: config.orgHeader,
      subjectHeader: config.subjectHeader,
      orgMetadata: config.orgMetadata,
      subjectMetadata: config.subjectMetadata,
      identityHeaders: config.identityHeaders,
      allowClientOrg: config.allowClientOrg,
      sessionEndHeader: config.sessionEndHeader,
    }),
    prices: loadPriceTable(config.pricesFile),
    storeContent: config.storeContent,
    storeRaw: config.storeRaw,
    redact: config.redact,
    redactPatterns: config.redactPatterns,
    providerHosts: config.providerHosts,
  }
  // Loop detections the recorder's commits report flag their sessions for the request gate.
  const flagged = new FlaggedSessions()
  const store = await openStore(storeOptions(config))
  logger.info('store open', { database: config.databaseUrl ? 'postgres' : `embedded (${config.dataDir})` })
  // PGlite's files are never fsynced (docs/deploy.md, "Durability"): say so where operators look.
  if (!config.databaseUrl) logger.warn(EMBEDDED_DURABILITY_WARNING)
  if (config.loopBlock) {
    // The sidecar starts without them when the database is away: the gate then learns from new detections.
    await recentlyFlaggedSessions(store.driver, flagged.capacity).then(
      (keys) => {
        for (const key of keys) flagged.add(key)
        logger.info('loop gate on', { flaggedSessions: keys.length })
      },
      (err) => logger.warn('loop gate on; flagged sessions not loaded', { err }),
    )
  }
  const recorder = createRecorder({
    store,
    buildOptions,
    parseWorkers: config.parseWorkers,
    writers: config.writers,
    commitBatch: config.commitBatch,
    queueSize: config.queueSize,
    dataDir: config.dataDir,
    logger,
    registry: registry,
    onCommitted: loopCommitHook(flagged, createLoopMetrics(registry)),
    journalSyncMs: config.journalSyncMs,
  })
  await recorder.start()

  const extproc = await startExtProcServer(
    {
      address: config.grpcAddress,
      tls,
      captureMaxBytes: config.captureMaxBytes,
      stripHeaderPrefix: config.stripEnvelopeHeaders ? 'x-tapes-' : undefined,
      requestGate: config.loopBlock ? createLoopGate(flagged, buildOptions.envelope) : undefined,
    },
    { consumer: recorder, metrics, logger },
  )

  // Sessions nobody has written to for the idle timeout are ended; a later turn reopens them.
  const sweepEvery = Math.min(60_000, Math.max(1000, config.idleTimeoutMs / 4))
  const sweeper = setInterval(() => {
    store.endIdleSessions(config.idleTimeoutMs).then(
      (n) => n > 0 && logger.info('ended idle sessions', { count: n }),
      (err) => logger.warn('idle session sweep failed', { err }),
    )
  }, sweepEvery)
  sweeper.unref()

  let stopping = false
  const admin = await startAdminServer({
    address: config.httpAddress,
    registry: registry,
    logger,
    // The read API (/v1) and the session page (/ui); both answer 404 until API tokens are configured.
    routes: [
      createReadApiRoute({ driver: store.driver, tokens: config.apiTokens, logger }),
      createSessionPageRoute({ driver: store.driver, tokens: config.apiTokens, logger }),
    ],
    ready: async () => {
      if (stopping) throw new Error('shutting down')
      await store.ping()
    },
  })
  return {
    grpcAddress: extproc.address,
    httpAddress: admin.address,
    async stop(reason) {
      if (stopping) return
      stopping = true
      const deadline = Date.now() + config.shutdownTimeoutMs
      logger.info('shutting down', { reason, activeStreams: extproc.activeStreams })
      clearInterval(sweeper)
      const { forced } = await extproc.shutdown(config.shutdownTimeoutMs)
      if (forced) logger.warn('in-flight exchanges cancelled at the shutdown deadline')
      await recorder.drain(Math.max(0, deadline - Date.now()))
      await store.close()
      await admin.close()
      logger.info('stopped')
    },
  }
}

/** What a newcomer needs after `npm start`: where it listens, where the data is, what to try next. */
export function startupText(
  config: ServeConfig,
  sidecar: Pick<RunningSidecar, 'grpcAddress' | 'httpAddress'>,
) {
  const admin = `http://${sidecar.httpAddress}`
  const data = config.databaseUrl
    ? 'Postgres at DATABASE_URL'
    : `embedded database in ${path.resolve(config.dataDir)} (one process at a time: stop serve before \`sessiontap sessions\`)`
  const reading =
    config.apiTokens.length > 0
      ? `read API ${admin}/v1/sessions, page ${admin}/ui/sessions (sign in with a token)`
      : 'read API and page off (set SESSIONTAP_API_TOKENS=<token>:<org-uuid> to turn them on)'
  // The replay command's defaults are serve's; other addresses are spelled out.
  const usual =
    sidecar.grpcAddress === SERVE_OPTIONS.grpcAddress.defaultText &&
    sidecar.httpAddress === SERVE_OPTIONS.httpAddress.defaultText
  const addressFlags = usual ? '' : ` --target ${sidecar.grpcAddress} --admin-address ${sidecar.httpAddress}`
  return [
    'sessiontap is running',
    `  ext_proc (gRPC)  ${sidecar.grpcAddress}  point Envoy's ext_proc cluster here`,
    `  admin HTTP       ${admin}  /healthz /readyz /metrics; ${reading}`,
    `  data             ${data}`,
    'Try it from another terminal in the repository:',
    `  npm run sessiontap -- replay test/fixtures/cases${addressFlags}`,
    'Stop with Ctrl-C (SIGINT) or SIGTERM; logs are JSON lines on standard error.',
  ].join('\n')
}

export async function serveCommand(
  config: ServeConfig,
  { out }: { out: (s: string) => void },
): Promise<number> {
  const logger = createLogger(config.logLevel)
  const sidecar = await startSidecar(config, logger)
  out(startupText(config, sidecar))
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      sidecar.stop(signal).then(resolve, (err) => {
        logger.error('shutdown failed', { err })
        resolve()
      })
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  })
  return 0
}

export async function migrateCommand(
  flags: ReadonlyMap<string, string>,
  env: NodeJS.ProcessEnv,
  out: (s: string) => void,
): Promise<number> {
  const config = loadOptions(MIGRATE_OPTIONS, flags, env)
  const store = await openStore({ ...storeOptions({ ...config, dbPoolSize: 2, migrate: false }) })
  try {
    const { applied } = await runMigrations(store.driver)
    out(applied.length > 0 ? `applied ${applied.join(', ')}` : 'database schema is up to date')
    return 0
  } finally {
    await store.close()
  }
}
