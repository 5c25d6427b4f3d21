/**
 * The command line: `sessiontap <command> [flags]`, in the manner of gh and kubectl: `--help`/`-h` on
 * every command and `sessiontap help <command>` print usage, flags with their environment variables
 * and defaults, and examples (exit 0); unknown commands and flags exit 2 with one line and a
 * suggestion; `--version`. Returns an exit code instead of exiting, so it can be tested in-process.
 */
import fs from 'node:fs'
import path from 'node:path'
import { ConfigError, loadServeConfig } from '../config/load.js'
import { type CommandSpec, didYouMean, parseCommandLine, renderHelp, suggest, UsageError } from './args.js'
import { REPLAY_COMMAND, replayCommand } from './replay.js'
import { MIGRATE_COMMAND, migrateCommand, SERVE_COMMAND, serveCommand } from './serve.js'
import { sessionsCommand } from './sessions.js'
import { SESSIONS_COMMANDS, SESSIONS_HELP, type SessionsSubcommand } from './sessions-commands.js'

export interface Output {
  out: (s: string) => void
  err: (s: string) => void
}

/** The package's version, from the package.json above this file (src/ or dist/src/). */
export function packageVersion(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json')
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'sessiontap') return pkg.version ?? 'unknown'
    }
    if (path.dirname(dir) === dir) return 'unknown'
  }
}

const TOP_COMMANDS: ReadonlyArray<[string, string]> = [
  ['serve', SERVE_COMMAND.summary],
  ['migrate', MIGRATE_COMMAND.summary],
  ['replay', REPLAY_COMMAND.summary],
  ['sessions', 'list, show, transcript, delete, export and import recorded sessions'],
  ['help', 'help for a command: sessiontap help sessions list'],
  ['version', 'print the version'],
]

const HELP = `sessiontap records what LLM agents do: an Envoy ext_proc sidecar that writes every LLM call into
Postgres as a turn of an agent session.

USAGE
  sessiontap <command> [flags]

COMMANDS
${TOP_COMMANDS.map(([name, summary]) => `  ${name.padEnd(10)}${summary}`).join('\n')}

FLAGS
  -h, --help     show this help
  --version      print the version

EXAMPLES
  $ sessiontap serve                                  # sidecar on 127.0.0.1:50051, data in ./.sessiontap
  $ sessiontap replay test/fixtures/cases             # play recorded exchanges into it
  $ sessiontap sessions list --harness claude         # what was recorded (stop serve first on the embedded database)

LEARN MORE
  sessiontap help <command> shows a command's flags with their environment variables and defaults.`

/** Resolves `help <words>` and the command words of a run to a command spec, or says what is wrong. */
function findCommand(words: readonly string[]): CommandSpec | 'sessions' {
  const [name, sub] = words
  switch (name) {
    case 'serve':
      return SERVE_COMMAND
    case 'migrate':
      return MIGRATE_COMMAND
    case 'replay':
      return REPLAY_COMMAND
    case 'sessions': {
      if (sub === undefined) return 'sessions'
      const spec = SESSIONS_COMMANDS[sub as SessionsSubcommand]
      if (spec) return spec
      const near = suggest(sub, Object.keys(SESSIONS_COMMANDS))
      throw new UsageError(
        `unknown command "sessions ${sub}"${didYouMean(near && `"sessions ${near}"`)}; see sessiontap sessions --help`,
      )
    }
    default: {
      const near = suggest(
        name ?? '',
        TOP_COMMANDS.map(([n]) => n),
      )
      throw new UsageError(
        `unknown command ${JSON.stringify(name)}${didYouMean(near && `"${near}"`)}; see sessiontap --help`,
      )
    }
  }
}

const isHelpFlag = (arg: string | undefined) => arg === '--help' || arg === '-h'

export async function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
  err: (s: string) => void = (s) => process.stderr.write(`${s}\n`),
): Promise<number> {
  const [first, ...rest] = argv
  let where = 'sessiontap'
  try {
    if (first === undefined) {
      err(HELP)
      return 2
    }
    if (isHelpFlag(first) || first === 'help') {
      if (rest.length === 0) {
        out(HELP)
        return 0
      }
      const spec = findCommand(rest)
      out(spec === 'sessions' ? SESSIONS_HELP : renderHelp(spec))
      return 0
    }
    if (first === '--version' || first === 'version') {
      out(`sessiontap ${packageVersion()}`)
      return 0
    }
    const sessionsWithoutSub = first === 'sessions' && (rest[0] === undefined || rest[0].startsWith('-'))
    if (sessionsWithoutSub) {
      if (isHelpFlag(rest[0])) {
        out(SESSIONS_HELP)
        return 0
      }
      err(SESSIONS_HELP)
      return 2
    }
    const spec = findCommand(first === 'sessions' ? [first, rest[0]!] : [first])
    if (spec === 'sessions') throw new Error('unreachable')
    where = `sessiontap ${spec.path}`
    const args = first === 'sessions' ? rest.slice(1) : rest
    const line = parseCommandLine(spec, args)
    if (line.help) {
      out(renderHelp(spec))
      return 0
    }
    switch (first) {
      case 'serve':
        return await serveCommand(loadServeConfig(line.flags, env), { out })
      case 'migrate':
        return await migrateCommand(line.flags, env, out)
      case 'replay':
        return await replayCommand(line.flags, line.positional, env, { out, err })
      default:
        return await sessionsCommand(rest[0] as SessionsSubcommand, line, env, { out, err })
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${where}: ${e.message}`)
      return 2
    }
    if (e instanceof ConfigError) {
      for (const p of e.problems) err(`${where}: ${p}`)
      return 2
    }
    err(`${where}: ${(e as Error).message}`)
    return 1
  }
}
