/**
 * `sessiontap sessions list|show|transcript|raw|delete|export|import`: the recorded sessions of one org,
 * on DATABASE_URL or the embedded database, as tables for people or JSON (--json) for scripts.
 */
import fs from 'node:fs/promises'
import { renderTranscriptText } from '../api/transcript-text.js'
import { loadOptions, parseArgv, z } from '../config/load.js'
import { SERVE_OPTIONS } from '../config/options.js'
import { NIL_ORG } from '../session/turn.js'
import { openStore, type Store } from '../store/index.js'
import {
  deleteSession,
  getSession,
  getTranscript,
  listSessions,
  SESSION_SORTS,
  type SessionRef,
  type SessionSummary,
  SORT_ORDERS,
} from '../store/queries.js'
import { getTurnRaw, parseTurnRef, type RawBodyView } from '../store/turn-bodies.js'
import { exportSession } from '../transfer/export.js'
import { parseDocument, serializeDocument } from '../transfer/format.js'
import { type ImportResult, importSession } from '../transfer/import.js'
import { storeOptions } from './serve.js'
import { renderFields, renderTable } from './table.js'

export const SESSIONS_SUBCOMMANDS = [
  'list',
  'show',
  'transcript',
  'raw',
  'delete',
  'export',
  'import',
] as const
type Subcommand = (typeof SESSIONS_SUBCOMMANDS)[number]

const flag = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true')
  .default(false)

export const SESSIONS_OPTIONS = {
  databaseUrl: SERVE_OPTIONS.databaseUrl,
  dataDir: SERVE_OPTIONS.dataDir,
  migrate: SERVE_OPTIONS.migrate,
  org: {
    env: 'SESSIONTAP_ORG',
    flag: '--org',
    help: 'org whose sessions to read or delete (a UUID); import takes the org from the file',
    schema: z
      .string()
      .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a UUID')
      .transform((s) => s.toLowerCase())
      .default(NIL_ORG),
    defaultText: NIL_ORG,
  },
  json: {
    env: 'SESSIONTAP_JSON',
    flag: '--json',
    help: 'print JSON for scripts instead of tables',
    schema: flag,
    defaultText: 'false',
  },
  limit: {
    env: 'SESSIONTAP_SESSIONS_LIMIT',
    flag: '--limit',
    help: 'list: sessions per page (at most 200)',
    schema: z.coerce.number().int().min(1).max(200).default(50),
    defaultText: '50',
  },
  cursor: {
    env: 'SESSIONTAP_SESSIONS_CURSOR',
    flag: '--cursor',
    help: 'list: the next page, as printed under the previous one',
    schema: z.string().min(1).optional(),
  },
  sort: {
    env: 'SESSIONTAP_SESSIONS_SORT',
    flag: '--sort',
    help: `list: ${SESSION_SORTS.join(', ')}`,
    schema: z.enum(SESSION_SORTS).default('last_seen'),
    defaultText: 'last_seen',
  },
  order: {
    env: 'SESSIONTAP_SESSIONS_ORDER',
    flag: '--order',
    help: `list: ${SORT_ORDERS.join(', ')}`,
    schema: z.enum(SORT_ORDERS).default('desc'),
    defaultText: 'desc',
  },
  harness: {
    env: 'SESSIONTAP_SESSIONS_HARNESS',
    flag: '--harness',
    help: 'list: only this harness (claude, codex, ...)',
    schema: z.string().min(1).optional(),
  },
  status: {
    env: 'SESSIONTAP_SESSIONS_STATUS',
    flag: '--status',
    help: 'list: active or ended',
    schema: z.enum(['active', 'ended']).optional(),
  },
  output: {
    env: 'SESSIONTAP_SESSIONS_OUTPUT',
    flag: '--output',
    help: 'export: write the file here instead of standard output',
    schema: z.string().min(1).optional(),
  },
  yes: {
    env: 'SESSIONTAP_SESSIONS_YES',
    flag: '--yes',
    help: 'delete: really delete (required)',
    schema: flag,
    defaultText: 'false',
  },
}

type SessionsConfig = ReturnType<typeof loadSessionsConfig>

function loadSessionsConfig(flags: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv) {
  return loadOptions(SESSIONS_OPTIONS, flags, env)
}

/** Bare boolean flags must not swallow the positional argument after them (`--json <id>`). */
const BOOLEAN_FLAGS = new Set(['--json', '--yes'])

const USAGE = `usage: sessiontap sessions <command> [options]
  list                      the org's sessions, most recent first
  show <session-id>         one session: metadata, totals, parent and children
  transcript <session-id>   the conversation, message by message
  raw <session-id> <turn>   a turn's original request and response bodies (turn: index or turn id)
  delete <session-id> --yes delete a session, its turns and the nodes no other session uses
  export <session-id>       the session as one checksummed JSON file (--output <file>)
  import <file>             a file written by export (- reads standard input); safe to repeat`

export interface Output {
  out: (s: string) => void
  err: (s: string) => void
}

const count = (n: number) => n.toLocaleString('en-US')
const usd = (n: number) => `$${n.toFixed(4)}`
const time = (iso: string | null) =>
  iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', '')

function listTable(sessions: readonly SessionSummary[]): string {
  return renderTable(
    [
      { header: 'ID', value: (s) => s.id },
      { header: 'HARNESS', value: (s) => s.harnessId },
      { header: 'SESSION', value: (s) => s.harnessSessionId },
      { header: 'NAME', value: (s) => s.name ?? '' },
      { header: 'STATUS', value: (s) => s.status },
      { header: 'TURNS', value: (s) => count(s.turnCount), align: 'right' },
      { header: 'TOKENS IN', value: (s) => count(s.tokens.input), align: 'right' },
      { header: 'TOKENS OUT', value: (s) => count(s.tokens.output), align: 'right' },
      { header: 'COST', value: (s) => usd(s.costUsd), align: 'right' },
      { header: 'LAST SEEN (UTC)', value: (s) => time(s.lastSeenAt) },
    ],
    sessions,
  )
}

const refText = (ref: SessionRef) =>
  `${ref.id} ${ref.harnessId}/${ref.harnessSessionId}${ref.name ? ` "${ref.name}"` : ''} (${ref.status}, ${ref.turnCount} turns)`

function importText(result: ImportResult): string {
  if (result.status === 'already_present') {
    return `session ${result.sessionId} is already in org ${result.orgId}; nothing changed`
  }
  const parent = {
    none: '',
    linked: '; parent linked',
    missing: '; its parent is not in this database, so parent_session_id is empty',
  }[result.parent]
  const how = result.status === 'filled_placeholder' ? ' (filled the placeholder a child had created)' : ''
  return `imported session ${result.sessionId} into org ${result.orgId}${how}: ${result.turnsInserted} turns, ${result.nodesInserted} new nodes${parent}`
}

async function readInput(file: string): Promise<string> {
  if (file !== '-') return fs.readFile(file, 'utf8')
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function rawText(title: string, body: RawBodyView): string {
  const notes = [`${count(body.size)} bytes`, ...(body.truncated ? ['stored truncated'] : [])]
  return `--- ${title} (${notes.join(', ')})\n${body.text}`
}

async function runSubcommand(
  sub: Subcommand,
  arg: string,
  turnArg: string | undefined,
  config: SessionsConfig,
  store: Store,
  { out, err }: Output,
): Promise<number> {
  const org = config.org
  const print = (value: unknown, text: () => string) =>
    out(config.json ? JSON.stringify(value, null, 2) : text())
  const missing = () => {
    err(`sessiontap sessions ${sub}: no session ${arg} in org ${org}`)
    return 1
  }
  switch (sub) {
    case 'list': {
      const page = await listSessions(store.driver, org, {
        limit: config.limit,
        cursor: config.cursor,
        sort: config.sort,
        order: config.order,
        harness: config.harness,
        status: config.status,
      })
      print(page, () =>
        [
          page.sessions.length === 0 ? `no sessions in org ${org}` : listTable(page.sessions),
          ...(page.nextCursor ? [`more: --cursor ${page.nextCursor}`] : []),
        ].join('\n'),
      )
      return 0
    }
    case 'show': {
      const session = await getSession(store.driver, org, arg)
      if (!session) return missing()
      print(session, () =>
        [
          renderFields([
            ['id', session.id],
            ['harness', `${session.harnessId} ${session.harnessVersion ?? ''}`.trim()],
            ['harness session', session.harnessSessionId],
            ['source', session.sessionSource],
            ['name', session.name],
            ['cwd', session.cwd],
            ['subject', session.authSubject],
            ['status', session.endReason ? `${session.status} (${session.endReason})` : session.status],
            ['started (UTC)', time(session.startedAt)],
            ['last seen (UTC)', time(session.lastSeenAt)],
            ['ended (UTC)', session.endedAt && time(session.endedAt)],
            ['turns', `${count(session.turnCount)} (${count(session.errorCount)} errors)`],
            [
              'tokens',
              `${count(session.tokens.input)} in (${count(session.tokens.cacheRead)} cache read), ${count(session.tokens.output)} out`,
            ],
            ['cost', usd(session.costUsd)],
            ['last model', session.lastModel],
            ['parent', session.parent && refText(session.parent)],
            ['children', session.childCount > 0 ? count(session.childCount) : null],
          ]),
          ...session.children.map((child) => `  ${refText(child)}`),
        ].join('\n'),
      )
      return 0
    }
    case 'transcript': {
      const transcript = await getTranscript(store.driver, org, arg)
      if (!transcript) return missing()
      print(transcript, () => renderTranscriptText(transcript))
      return 0
    }
    case 'raw': {
      const ref = parseTurnRef(turnArg ?? '')
      if (!ref) {
        err(`sessiontap sessions raw: ${turnArg} is neither a turn index nor a turn id`)
        return 2
      }
      const found = await getTurnRaw(store.driver, org, arg, ref)
      if (!found) {
        err(`sessiontap sessions raw: no turn ${turnArg} in session ${arg} of org ${org}`)
        return 1
      }
      if (!found.raw) {
        err(
          `sessiontap sessions raw: no raw bodies were stored for turn ${found.turnIndex} (${found.turnId})`,
        )
        return 1
      }
      const { request, response } = found.raw
      print(found, () => `${rawText('request', request)}\n${rawText('response', response)}`)
      return 0
    }
    case 'delete': {
      if (!config.yes) {
        err(`sessiontap sessions delete: add --yes to delete session ${arg} of org ${org}`)
        return 2
      }
      const deleted = await deleteSession(store.driver, org, arg)
      if (!deleted) return missing()
      print(
        deleted,
        () =>
          `deleted session ${deleted.sessionId}: ${deleted.turnsDeleted} turns, ${deleted.nodesDeleted} nodes ` +
          `(${deleted.nodesKept} kept for other sessions), ${deleted.childrenDetached} children detached`,
      )
      return 0
    }
    case 'export': {
      const document = await exportSession(store.driver, org, arg)
      if (!document) return missing()
      const text = serializeDocument(document)
      if (config.output === undefined) {
        out(text.trimEnd())
        return 0
      }
      await fs.writeFile(config.output, text)
      const { turns, nodes } = document.payload
      print(
        {
          file: config.output,
          sessionId: arg,
          turns: turns.length,
          nodes: nodes.length,
          checksum: document.checksum,
        },
        () => `exported session ${arg} (${turns.length} turns, ${nodes.length} nodes) to ${config.output}`,
      )
      return 0
    }
    case 'import': {
      // Version and checksum are verified before anything is written: a refused file changes nothing.
      const result = await importSession(store.driver, parseDocument(await readInput(arg)))
      print(result, () => importText(result))
      return 0
    }
  }
}

export async function sessionsCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<number> {
  const { flags, positional } = parseArgv(argv.map((a) => (BOOLEAN_FLAGS.has(a) ? `${a}=true` : a)))
  const config = loadSessionsConfig(flags, env)
  const [sub, arg, ...extra] = positional
  const args = sub === 'list' ? 0 : sub === 'raw' ? 2 : 1
  if (!SESSIONS_SUBCOMMANDS.includes(sub as Subcommand) || positional.length - 1 !== args) {
    output.err(USAGE)
    return 2
  }
  // A command needs one connection at a time; serve's pool size is for its writers.
  const store = await openStore(storeOptions({ ...config, dbPoolSize: 2 }))
  try {
    return await runSubcommand(sub as Subcommand, arg ?? '', extra[0], config, store, output)
  } finally {
    await store.close()
  }
}
