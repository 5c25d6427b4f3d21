/**
 * `sessiontap sessions list|show|transcript|raw|delete|export|import`: the recorded sessions of one org,
 * on DATABASE_URL or the embedded database, as tables for people or JSON (--json) for scripts.
 */
import fs from 'node:fs'
import { renderTranscriptText } from '../api/transcript-text.js'
import { DataDirLockedError, openStore, type Store } from '../store/index.js'
import {
  deleteSession,
  getSession,
  getTranscript,
  listSessions,
  type SessionRef,
  type SessionSummary,
} from '../store/read/index.js'
import { getTurnRaw, parseTurnRef, type RawBodyView } from '../store/turn-bodies.js'
import { exportSession } from '../transfer/export.js'
import { parseDocument, serializeDocument } from '../transfer/format.js'
import { type ImportResult, importSession } from '../transfer/import.js'
import type { ParsedCommandLine } from './args.js'
import { createProgress, type Progress, type ProgressStream } from './progress.js'
import { storeOptions } from './serve.js'
import { loadSessionsConfig, type SessionsConfig, type SessionsSubcommand } from './sessions-commands.js'
import { renderFields, renderTable } from './table.js'

export interface Output {
  out: (s: string) => void
  err: (s: string) => void
  /** Where progress goes; standard error by default (drawn only when it is a terminal). */
  progress?: ProgressStream
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
  return `imported session ${result.sessionId} into org ${result.orgId}${how}: ${result.turnsInserted} turns (${result.bodiesInserted} with raw bodies), ${result.nodesInserted} new nodes${parent}`
}

/** Reads a file (or standard input for -), counting bytes as they arrive. */
async function readInput(file: string, progress: Progress): Promise<string> {
  const stream = file === '-' ? process.stdin : fs.createReadStream(file)
  const chunks: Buffer[] = []
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer)
    progress.advance((chunk as Buffer).length)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function rawText(title: string, body: RawBodyView): string {
  const notes = [`${count(body.size)} bytes`, ...(body.truncated ? ['stored truncated'] : [])]
  return `--- ${title} (${notes.join(', ')})\n${body.text}`
}

/** Writes in slices so a large file shows its progress. */
async function writeOutput(file: string, text: string, progress: Progress): Promise<void> {
  const bytes = Buffer.from(text)
  const handle = await fs.promises.open(file, 'w')
  try {
    for (let at = 0; at < bytes.length; at += 1 << 20) {
      const slice = bytes.subarray(at, at + (1 << 20))
      await handle.write(slice)
      progress.advance(slice.length)
    }
  } finally {
    await handle.close()
  }
}

async function runSubcommand(
  sub: SessionsSubcommand,
  arg: string,
  turnArg: string | undefined,
  config: SessionsConfig,
  store: Store,
  { out, err, progress: progressStream }: Output,
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
      const progress = createProgress('export', {
        unit: 'bytes',
        total: Buffer.byteLength(text),
        stream: progressStream,
      })
      await writeOutput(config.output, text, progress)
      progress.done()
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
      const total = arg === '-' ? 0 : fs.statSync(arg).size
      const progress = createProgress('import', { unit: 'bytes', total, stream: progressStream })
      const text = await readInput(arg, progress)
      // Version and checksum are verified before anything is written: a refused file changes nothing.
      progress.phase('verifying the checksum…')
      const document = parseDocument(text)
      progress.phase(
        `writing ${document.payload.turns.length} turns and ${document.payload.nodes.length} nodes in one transaction…`,
      )
      const result = await importSession(store.driver, document).finally(() => progress.done())
      print(result, () => importText(result))
      return 0
    }
  }
}

/** The lock error says what to do in general; a newcomer running serve beside this needs the way to read. */
const LOCKED_HINT =
  ' While `sessiontap serve` runs on the embedded database, read through its API or page (SESSIONTAP_API_TOKENS) instead.'

export async function sessionsCommand(
  sub: SessionsSubcommand,
  line: ParsedCommandLine,
  env: NodeJS.ProcessEnv,
  output: Output,
): Promise<number> {
  const config = loadSessionsConfig(line.flags, env)
  // A command needs one connection at a time; serve's pool size is for its writers.
  const store = await openStore(storeOptions({ ...config, dbPoolSize: 2 })).catch((err: unknown) => {
    if (err instanceof DataDirLockedError) err.message += LOCKED_HINT
    throw err
  })
  try {
    const [arg, turnArg] = line.positional
    return await runSubcommand(sub, arg ?? '', turnArg, config, store, output)
  } finally {
    await store.close()
  }
}
