/**
 * Command-line parsing and help for every command: flags come from the same option declarations as the
 * environment variables (src/config/options.ts), parsed by node:util parseArgs. Bad input is a
 * UsageError: one line, with a suggestion when a name is close to a known one, and exit code 2.
 */
import { parseArgs } from 'node:util'
import type { OptionSpec } from '../config/options.js'

export class UsageError extends Error {
  override name = 'UsageError'
}

export interface CommandSpec {
  /** The words after `sessiontap`: `replay`, `sessions list`. */
  path: string
  summary: string
  /** What follows the path in the usage line: `<case-dir>... [flags]`. */
  usage: string
  description?: string
  options: Record<string, OptionSpec>
  /** Positional arguments accepted: [fewest, most]. */
  positionals: readonly [number, number]
  examples: readonly string[]
}

export interface ParsedCommandLine {
  /** Flag (`--target`) to its raw value; booleans as `true`/`false`. */
  flags: Map<string, string>
  positional: string[]
  help: boolean
}

/** A boolean option reads `false` as false (numbers and strings do not): `--json`, `--no-migrate`. */
export function isBooleanOption(spec: OptionSpec): boolean {
  const parsed = spec.schema.safeParse('false')
  return parsed.success && parsed.data === false
}

/** The closest candidate within a small edit distance, for "did you mean". */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined
  for (const name of candidates) {
    const distance = editDistance(input, name)
    if (distance <= Math.max(2, Math.floor(name.length / 3)) && (!best || distance < best.distance)) {
      best = { name, distance }
    }
  }
  return best?.name
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
    }
    previous = current
  }
  return previous[b.length]!
}

/** ` (did you mean --target?)`, or nothing. */
export const didYouMean = (name: string | undefined) => (name ? ` (did you mean ${name}?)` : '')

export function parseCommandLine(command: CommandSpec, argv: readonly string[]): ParsedCommandLine {
  const specs = Object.values(command.options)
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  }
  for (const spec of specs)
    options[spec.flag.slice(2)] = { type: isBooleanOption(spec) ? 'boolean' : 'string' }
  const see = `see sessiontap ${command.path} --help`
  // parseArgs takes no value for a boolean; `--migrate=false` is still accepted, and checked by its schema.
  const booleanFlags = new Set(specs.filter(isBooleanOption).map((s) => s.flag))
  const inline = new Map<string, string>()
  const args = argv.filter((arg) => {
    const eq = arg.indexOf('=')
    if (eq < 0 || !booleanFlags.has(arg.slice(0, eq))) return true
    inline.set(arg.slice(0, eq), arg.slice(eq + 1))
    return false
  })
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>
  try {
    parsed = parseArgs({
      args,
      options,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    })
  } catch (err) {
    const message = (err as Error).message
    const code = (err as NodeJS.ErrnoException).code
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? ''
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const known = ['--help', ...specs.map((s) => s.flag)]
      throw new UsageError(`unknown option ${option}${didYouMean(suggest(option, known))}; ${see}`)
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const spec = specs.find((s) => s.flag === option)
      throw new UsageError(
        spec && isBooleanOption(spec)
          ? `${option} takes no value (write ${option}, --no-${option.slice(2)} or ${option}=false); ${see}`
          : `${option} needs a value; ${see}`,
      )
    }
    throw new UsageError(`${message}; ${see}`)
  }
  const flags = new Map<string, string>()
  for (const [name, value] of Object.entries(parsed.values)) {
    if (name !== 'help' && value !== undefined) flags.set(`--${name}`, String(value))
  }
  for (const [flag, value] of inline) flags.set(flag, value)
  const help = parsed.values.help === true
  const positional = parsed.positionals
  const [fewest, most] = command.positionals
  if (!help && positional.length < fewest) {
    throw new UsageError(`missing ${command.usage.split(' ')[positional.length] ?? 'argument'}; ${see}`)
  }
  if (!help && positional.length > most) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positional[most])}; ${see}`)
  }
  return { flags, positional, help }
}

/** `--flag <value>` or `--[no-]flag`, the text gh and kubectl show in their flag lists. */
function flagText(spec: OptionSpec): string {
  if (!isBooleanOption(spec)) return `${spec.flag} <value>`
  return spec.defaultText === 'true' ? `--[no-]${spec.flag.slice(2)}` : spec.flag
}

export function renderOptions(specs: Record<string, OptionSpec>): string {
  const rows = Object.values(specs).map((spec) => {
    const facts = [`env ${spec.env}`, spec.defaultText ? `default ${spec.defaultText}` : undefined]
    return { flag: flagText(spec), help: spec.help, facts: facts.filter(Boolean).join(', ') }
  })
  rows.push({ flag: '-h, --help', help: 'show this help', facts: '' })
  const width = Math.max(...rows.map((r) => r.flag.length))
  return rows
    .map((r) => {
      const lines = [`  ${r.flag.padEnd(width)}  ${r.help}`]
      if (r.facts) lines.push(`  ${' '.repeat(width)}  (${r.facts})`)
      return lines.join('\n')
    })
    .join('\n')
}

export function renderHelp(command: CommandSpec): string {
  return [
    command.description ?? command.summary,
    '',
    'USAGE',
    `  sessiontap ${command.path} ${command.usage}`,
    '',
    'FLAGS',
    renderOptions(command.options),
    '',
    'Every flag can also be set by its environment variable; flags win.',
    '',
    'EXAMPLES',
    ...command.examples.map((e) => `  ${e}`),
  ].join('\n')
}
