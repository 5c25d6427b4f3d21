/**
 * The command line: `sessiontap <command> [options]`. Returns an exit code; prints one clear line for
 * a bad setting instead of a stack trace.
 */
import { ConfigError, loadServeConfig, optionsHelp, parseArgv } from '../config/load.js'
import { SERVE_OPTIONS } from '../config/options.js'
import { REPLAY_OPTIONS, replayCommand } from './replay.js'
import { migrateCommand, serveCommand } from './serve.js'
import { SESSIONS_OPTIONS, sessionsCommand } from './sessions.js'

const HELP = `sessiontap: an Envoy ext_proc sidecar that records LLM agent sessions into Postgres

usage: sessiontap <command> [options]

commands:
  serve                    run the sidecar (ext_proc gRPC server, recorder, admin HTTP)
  migrate                  apply database migrations (DATABASE_URL, or the embedded database) and exit
  replay <case-dir>...     play recorded exchanges into a running server as Envoy would
  sessions list|show|transcript|delete|export|import
                           read, delete, export or import recorded sessions (sessiontap sessions for usage)
  help                     show this text

Every option can also be set by its environment variable; flags win.

serve and migrate options:
${optionsHelp(SERVE_OPTIONS)}

replay options:
${optionsHelp(REPLAY_OPTIONS)}

sessions options:
${optionsHelp(SESSIONS_OPTIONS)}
`

export async function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
  err: (s: string) => void = (s) => process.stderr.write(`${s}\n`),
): Promise<number> {
  const [command, ...rest] = argv
  const { flags, positional } = parseArgv(rest)
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(loadServeConfig(flags, env))
      case 'migrate':
        return await migrateCommand(loadServeConfig(flags, env), out)
      case 'replay':
        return await replayCommand(flags, positional, env, out)
      case 'sessions':
        return await sessionsCommand(rest, env, { out, err })
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(HELP)
        return command === undefined ? 2 : 0
      default:
        err(`unknown command ${JSON.stringify(command)}; see sessiontap --help`)
        return 2
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) err(`sessiontap ${command}: ${p}`)
      return 2
    }
    err(`sessiontap ${command}: ${(e as Error).message}`)
    return 1
  }
}
