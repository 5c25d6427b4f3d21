/**
 * Secrets never stored: credentials that appear inside messages (an API key pasted into a prompt, a
 * token in a tool's output) are replaced by `[REDACTED:<kind>]` before anything is hashed or kept,
 * in the parsed content and in the raw bodies alike. The hash is taken over the redacted form, so a
 * conversation that resends the secret still chains: every copy is redacted the same way.
 */

export interface RedactionPattern {
  kind: string
  /** A regular expression source, matched globally. */
  source: string
}

/** Credentials with a recognisable shape. Each is specific enough not to eat ordinary prose. */
export const BUILT_IN_PATTERNS: readonly RedactionPattern[] = [
  {
    kind: 'private_key',
    source: '-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----',
  },
  { kind: 'anthropic_key', source: '\\bsk-ant-[A-Za-z0-9_-]{40,}' },
  // Legacy keys are sk- and 32+ letters and digits; project, service-account and admin keys say so.
  { kind: 'openai_key', source: '\\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{32,})' },
  { kind: 'aws_access_key', source: '\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b' },
  { kind: 'github_token', source: '\\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\\b' },
  { kind: 'google_api_key', source: '\\bAIza[0-9A-Za-z_-]{35}\\b' },
  { kind: 'slack_token', source: '\\bxox[abposr]-[A-Za-z0-9-]{10,}' },
  { kind: 'jwt', source: '\\beyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}' },
]

export interface Redactor {
  /** The text with every match replaced (the same string when nothing matched). */
  text(value: string): string
  /** Plain JSON-like data with every string redacted (objects and arrays rebuilt only when changed). */
  deep<T>(value: T): T
  /** Replacements this redactor made. */
  readonly count: number
}

/** The compiled patterns; `redactor()` gives a fresh counter over them (one per turn). */
export interface Redaction {
  redactor(): Redactor
}

/** The built-in patterns plus `extra` (each `kind` named, `source` a regex), compiled once. */
export function compileRedaction(extra: readonly RedactionPattern[] = []): Redaction {
  const patterns = [...BUILT_IN_PATTERNS, ...extra]
  // One pass per string: an alternation of named groups, so the match says which kind it was.
  const combined = new RegExp(patterns.map((p, i) => `(?<p${i}>${p.source})`).join('|'), 'g')
  const kindOf = (groups: Record<string, string | undefined>): string => {
    const name = Object.keys(groups).find((key) => /^p\d+$/.test(key) && groups[key] !== undefined)
    return patterns[Number(name?.slice(1))]?.kind ?? 'secret'
  }
  return {
    redactor(): Redactor {
      let count = 0
      const text = (value: string): string => {
        combined.lastIndex = 0
        // Cheap exit for the common case: no candidate at all.
        if (!combined.test(value)) return value
        combined.lastIndex = 0
        return value.replace(combined, (...args) => {
          count++
          return `[REDACTED:${kindOf(args.at(-1) as Record<string, string | undefined>)}]`
        })
      }
      const deep = <T>(value: T): T => {
        if (typeof value === 'string') return text(value) as T
        if (Array.isArray(value)) {
          const out = value.map(deep)
          return (out.some((item, i) => item !== value[i]) ? out : value) as T
        }
        if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
          const entries = Object.entries(value)
          const next = entries.map(([key, item]) => [key, deep(item)] as const)
          return (next.some(([, item], i) => item !== entries[i]![1]) ? Object.fromEntries(next) : value) as T
        }
        return value
      }
      return {
        text,
        deep,
        get count() {
          return count
        },
      }
    },
  }
}

/** Checks that every extra pattern compiles; returns the first error, naming the pattern's kind. */
export function invalidPattern(patterns: readonly RedactionPattern[]): string | null {
  for (const p of patterns) {
    try {
      new RegExp(p.source, 'g')
    } catch (err) {
      return `redaction pattern ${p.kind}: ${(err as Error).message}`
    }
  }
  return null
}
