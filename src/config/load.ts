/**
 * Reads settings from CLI flags (which win; src/cli/args.ts parses them) and the environment,
 * validates them all at once, and reports every bad value in one line each, naming the variable or
 * the flag.
 */
import type { z } from 'zod'
import { type OptionSpec, SERVE_OPTIONS } from './options.js'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
    this.name = 'ConfigError'
  }
}

type Specs = Record<string, OptionSpec>
type Parsed<S extends Specs> = { [K in keyof S]: z.output<S[K]['schema']> }

export function loadOptions<S extends Specs>(
  specs: S,
  flags: ReadonlyMap<string, string>,
  env: NodeJS.ProcessEnv,
): Parsed<S> {
  const problems: string[] = []
  const out: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(specs)) {
    const fromFlag = flags.get(spec.flag)
    const fromEnv = env[spec.env]
    const raw = fromFlag ?? (fromEnv === '' ? undefined : fromEnv)
    const result = spec.schema.safeParse(raw)
    if (result.success) out[key] = result.data
    else {
      const source = fromFlag !== undefined ? spec.flag : spec.env
      const reason = result.error.issues[0]?.message ?? 'invalid'
      const shown = spec.secret ? '(value hidden)' : JSON.stringify(raw)
      problems.push(`invalid ${source}=${shown}: ${reason} (${spec.help})`)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return out as Parsed<S>
}

export type ServeConfig = Parsed<typeof SERVE_OPTIONS>

export function loadServeConfig(flags: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): ServeConfig {
  return loadOptions(SERVE_OPTIONS, flags, env)
}

/** The README's configuration reference table, generated from the same declarations. */
export function optionsMarkdown(specs: Specs): string {
  const lines = ['| environment variable | flag | default | meaning |', '| --- | --- | --- | --- |']
  for (const s of Object.values(specs)) {
    lines.push(
      `| \`${s.env}\` | \`${s.flag}\` | ${s.defaultText ? `\`${s.defaultText}\`` : 'unset'} | ${s.help} |`,
    )
  }
  return lines.join('\n')
}
