/**
 * Text projection before hashing: strip the context that agent harnesses inject into messages, then
 * normalize whitespace, so the same conversation hashes the same whichever reminders rode along.
 */

/** Harness-injected tags, applied in this order (tapes HEAD's `HarnessTags`, all 19). */
export const HARNESS_TAGS = [
  'system-reminder',
  'command-name',
  'command-message',
  'command-args',
  'local-command-stdout',
  'local-command-stderr',
  'local-command-caveat',
  'session',
  'conversation',
  'new-diagnostics',
  'task-notification',
  'status',
  'summary',
  'transcript',
  'event',
  'tool-use-id',
  'output-file',
  'task-id',
  'environment_context',
] as const

/**
 * Removes every `<tag>…</tag>` span, tag by tag in list order, matching literally. An open tag with
 * no close after it swallows the rest of the string (a truncated reminder is still a reminder).
 */
export function stripHarnessTags(text: string): string {
  let out = text
  for (const tag of HARNESS_TAGS) {
    const open = `<${tag}>`
    const close = `</${tag}>`
    for (let start = out.indexOf(open); start >= 0; start = out.indexOf(open, start)) {
      const end = out.indexOf(close, start + open.length)
      out = end < 0 ? out.slice(0, start) : out.slice(0, start) + out.slice(end + close.length)
    }
  }
  return out
}

// Go's unicode.IsSpace set (what strings.TrimSpace trims). Unlike String.prototype.trim it includes
// U+0085 and excludes U+FEFF, so JS trim() would hash differently.
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'
const LEADING_SPACE = new RegExp(`^[${GO_SPACE}]+`)
const TRAILING_SPACE = new RegExp(`[${GO_SPACE}]+$`)

/** `\r\n`→`\n`, spaces/tabs before a newline dropped, newline runs collapsed, then trimmed. */
export function normalizeWhitespace(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{2,}/g, '\n')
    .replace(LEADING_SPACE, '')
    .replace(TRAILING_SPACE, '')
}

/** The hashed form of a text: harness tags stripped, whitespace normalized. */
export function projectText(text: string): string {
  return normalizeWhitespace(stripHarnessTags(text))
}
