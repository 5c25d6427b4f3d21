/**
 * The CLI explains itself: every command and subcommand answers --help, -h and `sessiontap help ...`
 * with usage, its flags (environment variable and default beside each) and examples, exit 0; bad
 * input exits 2 with one line and, when a name is close, a suggestion.
 */
import { describe, expect, it } from 'vitest'
import { parseCommandLine, suggest } from '../../src/cli/args.js'
import { REPLAY_COMMAND } from '../../src/cli/replay.js'
import { packageVersion, run } from '../../src/cli/run.js'
import { MIGRATE_COMMAND, SERVE_COMMAND } from '../../src/cli/serve.js'
import { SESSIONS_COMMANDS } from '../../src/cli/sessions-commands.js'

async function sessiontap(...argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await run(
    argv,
    {},
    (s) => out.push(s),
    (s) => err.push(s),
  )
  return { code, out: out.join('\n'), err: err.join('\n') }
}

const COMMANDS = [SERVE_COMMAND, MIGRATE_COMMAND, REPLAY_COMMAND, ...Object.values(SESSIONS_COMMANDS)]

describe('sessiontap help', () => {
  it('lists every command at the top, for --help, -h and help', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const { code, out, err } = await sessiontap(...argv)
      expect({ code, err }).toEqual({ code: 0, err: '' })
      expect(out).toContain('USAGE\n  sessiontap <command> [flags]')
      for (const command of ['serve', 'migrate', 'replay', 'sessions', 'help', 'version']) {
        expect(out).toMatch(new RegExp(`^ {2}${command} `, 'm'))
      }
      expect(out).toContain('EXAMPLES')
    }
  })

  it.each(COMMANDS.map((c) => [c.path, c]))(
    '%s: usage, every flag with env and default, examples',
    async (path, spec) => {
      const words = path.split(' ')
      const answers = [
        await sessiontap(...words, '--help'),
        await sessiontap(...words, '-h'),
        await sessiontap('help', ...words),
        // --help wins over anything else on the line, even arguments it would refuse.
        await sessiontap(...words, 'extra', 'args', '--help'),
      ]
      for (const answer of answers) expect(answer).toEqual({ code: 0, out: answers[0]!.out, err: '' })
      const help = answers[0]!.out
      expect(help).toContain(`USAGE\n  sessiontap ${path} ${spec.usage}`)
      for (const option of Object.values(spec.options)) {
        const name = option.flag.slice(2)
        const line = help
          .split('\n')
          .findIndex((l) => l.startsWith(`  --${name} `) || l.startsWith(`  --[no-]${name} `))
        expect(line, option.flag).toBeGreaterThan(0)
        // The environment variable and the default sit on the line under the flag.
        const facts = help.split('\n')[line + 1]!
        expect(facts).toContain(`env ${option.env}`)
        if (option.defaultText) expect(facts).toContain(`default ${option.defaultText}`)
      }
      expect(help).toMatch(/EXAMPLES\n {2}\$ .*sessiontap /)
      expect(help).toContain('-h, --help')
    },
  )

  it('explains the sessions group with its subcommands', async () => {
    const answer = await sessiontap('sessions', '--help')
    expect(answer.code).toBe(0)
    for (const sub of Object.keys(SESSIONS_COMMANDS))
      expect(answer.out).toMatch(new RegExp(`^ {2}${sub}\\b`, 'm'))
    expect((await sessiontap('help', 'sessions')).out).toBe(answer.out)
  })

  it('prints the version', async () => {
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/)
    for (const argv of [['--version'], ['version']]) {
      expect(await sessiontap(...argv)).toEqual({ code: 0, out: `sessiontap ${packageVersion()}`, err: '' })
    }
  })
})

describe('bad input', () => {
  it.each([
    [['serv'], 'sessiontap: unknown command "serv" (did you mean "serve"?); see sessiontap --help'],
    [['frobnicate'], 'sessiontap: unknown command "frobnicate"; see sessiontap --help'],
    [
      ['help', 'replya'],
      'sessiontap: unknown command "replya" (did you mean "replay"?); see sessiontap --help',
    ],
    [
      ['replay', 'cases', '--targt', 'x'],
      'sessiontap replay: unknown option --targt (did you mean --target?); see sessiontap replay --help',
    ],
    [['replay'], 'sessiontap replay: missing <case-dir>...; see sessiontap replay --help'],
    [
      ['replay', 'cases', '--target'],
      'sessiontap replay: --target needs a value; see sessiontap replay --help',
    ],
    [['migrate', 'now'], 'sessiontap migrate: unexpected argument "now"; see sessiontap migrate --help'],
    [['serve', '-x'], 'sessiontap serve: unknown option -x; see sessiontap serve --help'],
    [
      ['serve', '--migrate=maybe'],
      'sessiontap serve: invalid --migrate="maybe": Invalid input (apply database migrations at start)',
    ],
  ])('%j exits 2 with one line', async (argv, line) => {
    expect(await sessiontap(...argv)).toEqual({ code: 2, out: '', err: line })
  })

  it('prints the overview to standard error for no command at all', async () => {
    const { code, out, err } = await sessiontap()
    expect({ code, out }).toEqual({ code: 2, out: '' })
    expect(err).toContain('sessiontap <command> [flags]')
  })
})

describe('flag parsing', () => {
  it('takes --flag value, --flag=value, bare booleans, --no-flag and --flag=false', () => {
    const { flags, positional } = parseCommandLine(REPLAY_COMMAND, [
      'a',
      '--target',
      'h:1',
      '--mode=buffered',
      '--json',
      'b',
      '--no-fresh-ids',
    ])
    expect(positional).toEqual(['a', 'b'])
    expect(Object.fromEntries(flags)).toEqual({
      '--target': 'h:1',
      '--mode': 'buffered',
      '--json': 'true',
      '--fresh-ids': 'false',
    })
    expect(parseCommandLine(REPLAY_COMMAND, ['a', '--json=false']).flags.get('--json')).toBe('false')
  })

  it('suggests only names that are close', () => {
    expect(suggest('--concurency', ['--concurrency', '--chunk-size'])).toBe('--concurrency')
    expect(suggest('lst', ['list', 'show'])).toBe('list')
    expect(suggest('zzzzzz', ['list', 'show'])).toBeUndefined()
  })
})
