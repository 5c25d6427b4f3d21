/**
 * The `sessiontap sessions` commands as data: their flags (from the one option table), usage,
 * examples and help text. `--help`, the parser and the README read these.
 */
import { z } from 'zod'
import { loadOptions } from '../config/load.js'
import { SERVE_OPTIONS } from '../config/options.js'
import { isUuid } from '../session/identifiers.js'
import { NIL_ORG } from '../session/turn.js'
import { SESSION_SORTS, SORT_ORDERS } from '../store/read/index.js'
import type { CommandSpec } from './args.js'
import { renderOptions } from './args.js'

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
      .refine(isUuid, 'a UUID')
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
    help: 'sessions per page (at most 200)',
    schema: z.coerce.number().int().min(1).max(200).default(50),
    defaultText: '50',
  },
  cursor: {
    env: 'SESSIONTAP_SESSIONS_CURSOR',
    flag: '--cursor',
    help: 'the next page, as printed under the previous one',
    schema: z.string().min(1).optional(),
  },
  sort: {
    env: 'SESSIONTAP_SESSIONS_SORT',
    flag: '--sort',
    help: `sort by: ${SESSION_SORTS.join(', ')}`,
    schema: z.enum(SESSION_SORTS).default('last_seen'),
    defaultText: 'last_seen',
  },
  order: {
    env: 'SESSIONTAP_SESSIONS_ORDER',
    flag: '--order',
    help: `order: ${SORT_ORDERS.join(', ')}`,
    schema: z.enum(SORT_ORDERS).default('desc'),
    defaultText: 'desc',
  },
  harness: {
    env: 'SESSIONTAP_SESSIONS_HARNESS',
    flag: '--harness',
    help: 'only this harness (claude, codex, ...)',
    schema: z.string().min(1).optional(),
  },
  status: {
    env: 'SESSIONTAP_SESSIONS_STATUS',
    flag: '--status',
    help: 'only active or ended sessions',
    schema: z.enum(['active', 'ended']).optional(),
  },
  output: {
    env: 'SESSIONTAP_SESSIONS_OUTPUT',
    flag: '--output',
    help: 'write the file here instead of standard output (shows progress on a terminal)',
    schema: z.string().min(1).optional(),
  },
  yes: {
    env: 'SESSIONTAP_SESSIONS_YES',
    flag: '--yes',
    help: 'really delete (required)',
    schema: flag,
    defaultText: 'false',
  },
}

export type SessionsConfig = ReturnType<typeof loadSessionsConfig>
type OptionKey = keyof typeof SESSIONS_OPTIONS

export function loadSessionsConfig(flags: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv) {
  return loadOptions(SESSIONS_OPTIONS, flags, env)
}

const DATABASE: OptionKey[] = ['databaseUrl', 'dataDir', 'migrate']

function subcommand(
  name: string,
  summary: string,
  usage: string,
  keys: OptionKey[],
  examples: string[],
  description?: string,
): CommandSpec {
  const options = Object.fromEntries([...DATABASE, ...keys].map((k) => [k, SESSIONS_OPTIONS[k]]))
  const arity = usage.split('<').length - 1
  return {
    path: `sessions ${name}`,
    summary,
    usage: `${usage} [flags]`.trim(),
    description,
    options,
    positionals: [arity, arity],
    examples,
  }
}

const ID = '0192f0c4-6a3b-7c1d-8e2f-3a4b5c6d7e8f'

export const SESSIONS_COMMANDS = {
  list: subcommand(
    'list',
    "the org's sessions, most recent first",
    '',
    ['org', 'json', 'limit', 'cursor', 'sort', 'order', 'harness', 'status'],
    [
      '$ sessiontap sessions list',
      '$ sessiontap sessions list --harness claude --sort cost --limit 20',
      "$ sessiontap sessions list --json | jq -r '.sessions[].id'",
    ],
  ),
  show: subcommand(
    'show',
    'one session: metadata, totals, parent and children',
    '<session-id>',
    ['org', 'json'],
    [`$ sessiontap sessions show ${ID}`],
  ),
  transcript: subcommand(
    'transcript',
    'the conversation, message by message',
    '<session-id>',
    ['org', 'json'],
    [`$ sessiontap sessions transcript ${ID} | less`],
  ),
  raw: subcommand(
    'raw',
    "a turn's original request and response bodies (turn: index or turn id)",
    '<session-id> <turn>',
    ['org', 'json'],
    [
      `$ sessiontap sessions raw ${ID} 0`,
      `$ sessiontap sessions raw ${ID} 3 --json | jq -r .raw.request.text`,
    ],
  ),
  delete: subcommand(
    'delete',
    'delete a session, its turns and the nodes no other session uses',
    '<session-id>',
    ['org', 'yes', 'json'],
    [`$ sessiontap sessions delete ${ID} --yes`],
  ),
  export: subcommand(
    'export',
    'the session as one checksummed JSON file',
    '<session-id>',
    ['org', 'output', 'json'],
    [`$ sessiontap sessions export ${ID} --output session.json`],
  ),
  import: subcommand(
    'import',
    'a file written by export (- reads standard input); safe to repeat',
    '<file>',
    ['json'],
    [
      '$ sessiontap sessions import session.json',
      '$ ssh prod sessiontap sessions export $ID | sessiontap sessions import -',
    ],
    'Import a file written by export into the org it names. Version and checksum are verified before\nanything is written; importing the same file again changes nothing.',
  ),
} satisfies Record<string, CommandSpec>

export type SessionsSubcommand = keyof typeof SESSIONS_COMMANDS

export const SESSIONS_HELP = `Read, delete, export or import the recorded sessions of one org, on DATABASE_URL or the embedded
database in the data dir, as tables for people or JSON (--json) for scripts.

USAGE
  sessiontap sessions <command> [flags]

COMMANDS
${Object.entries(SESSIONS_COMMANDS)
  .map(
    ([name, spec]) =>
      `  ${`${name} ${spec.usage.replace(' [flags]', '').replace('[flags]', '')}`.padEnd(26)}${spec.summary}`,
  )
  .join('\n')}

FLAGS (every command)
${renderOptions(Object.fromEntries(DATABASE.map((k) => [k, SESSIONS_OPTIONS[k]])))}

EXAMPLES
  $ sessiontap sessions list --harness claude
  $ sessiontap help sessions export

The embedded database opens in one process at a time: while \`sessiontap serve\` runs on it, stop it
first, or read through its API and page (SESSIONTAP_API_TOKENS), or use DATABASE_URL.`
