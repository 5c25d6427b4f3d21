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

const TAG_PAIRS = HARNESS_TAGS.map((tag) => [`<${tag}>`, `</${tag}>`] as const)

/**
 * Removes every `<tag>…</tag>` span, tag by tag in list order, matching literally. An open tag with
 * no close after it swallows the rest of the string (a truncated reminder is still a reminder).
 */
export function stripHarnessTags(text: string): string {
  // Every tag opens with '<': most texts (tool output, prose) have none and need no scan per tag.
  if (!text.includes('<')) return text
  let out = text
  for (const [open, close] of TAG_PAIRS) {
    for (let start = out.indexOf(open); start >= 0; start = out.indexOf(open, start)) {
      const end = out.indexOf(close, start + open.length)
      out = end < 0 ? out.slice(0, start) : out.slice(0, start) + out.slice(end + close.length)
    }
  }
  return out
}

/**
 * Go's unicode.IsSpace set (what strings.TrimSpace trims). Unlike String.prototype.trim it includes
 * U+0085 and excludes U+FEFF, so JS trim() would hash differently.
 */
function isGoSpace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x20 ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  )
}

/** Go's strings.TrimSpace, by hand: an anchored character-class regex rescans every inner run. */
function trimGoSpace(text: string): string {
  let start = 0
  let end = text.length
  while (start < end && isGoSpace(text.charCodeAt(start))) start++
  while (end > start && isGoSpace(text.charCodeAt(end - 1))) end--
  return start === 0 && end === text.length ? text : text.slice(start, end)
}

/** `\r\n`→`\n`, spaces/tabs before a newline dropped, newline runs collapsed, then trimmed. */
export function normalizeWhitespace(text: string): string {
  let out = text.includes('\r\n') ? text.replace(/\r\n/g, '\n') : text
  // Both rules need a newline; a single-line text skips the scans.
  if (out.includes('\n')) out = out.replace(/[ \t]+\n/g, '\n').replace(/\n{2,}/g, '\n')
  return trimGoSpace(out)
}

/** The hashed form of a text: harness tags stripped, whitespace normalized. */
export function projectText(text: string): string {
  return normalizeWhitespace(stripHarnessTags(text))
}
