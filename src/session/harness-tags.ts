/**
 * Finds the context that agent harnesses inject into message text (`<system-reminder>…</system-reminder>`
 * and the like) so projection can leave it out of the hash. Only a well-formed span is removed: prompts
 * that quote, mention or half-write a tag keep every character.
 */

/** Harness-injected tags (tapes HEAD's `HarnessTags`, all 19). */
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

type HarnessTag = (typeof HARNESS_TAGS)[number]

const OPEN_TAGS = HARNESS_TAGS.map((tag) => ({ tag, open: `<${tag}>`, close: `</${tag}>` }))

/** Space, tab or carriage return: what may follow a close tag before its line ends. */
function isTrailingSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d
}

interface Fence {
  char: number
  length: number
}

/**
 * A Markdown fence at `start` (up to three spaces, then three or more backticks or tildes), by hand:
 * this runs once per line of every text that holds a '<'.
 */
function fenceAt(text: string, start: number): Fence | null {
  let at = start
  while (at < start + 3 && text.charCodeAt(at) === 0x20) at++
  const char = text.charCodeAt(at)
  if (char !== 0x60 && char !== 0x7e) return null // '`' or '~'
  let length = 0
  while (text.charCodeAt(at + length) === char) length++
  return length >= 3 ? { char, length } : null
}

/**
 * Per text and tag, each open tag's matching close (nesting counted), found on first use with one
 * stack pass, so a text of many unclosed tags is still scanned in linear time.
 */
class TagMatcher {
  private readonly ends = new Map<HarnessTag, Map<number, number>>()

  constructor(private readonly text: string) {}

  /** The index just past the close that matches the open tag at `start`, or -1 when it has none. */
  matchEnd(tag: (typeof OPEN_TAGS)[number], start: number): number {
    let ends = this.ends.get(tag.tag)
    if (ends === undefined) {
      ends = this.pair(tag.open, tag.close)
      this.ends.set(tag.tag, ends)
    }
    return ends.get(start) ?? -1
  }

  private pair(open: string, close: string): Map<number, number> {
    const ends = new Map<number, number>()
    const stack: number[] = []
    let nextOpen = this.text.indexOf(open)
    let nextClose = this.text.indexOf(close)
    while (nextClose >= 0) {
      if (nextOpen >= 0 && nextOpen < nextClose) {
        stack.push(nextOpen)
        nextOpen = this.text.indexOf(open, nextOpen + open.length)
      } else {
        const start = stack.pop()
        if (start !== undefined) ends.set(start, nextClose + close.length)
        nextClose = this.text.indexOf(close, nextClose + close.length)
      }
    }
    return ends
  }
}

/**
 * The end of the harness spans that start exactly at `start` and fill the rest of their last line:
 * an open tag, its matching close, then only spaces, tabs or a carriage return up to a newline (or the text's end), or
 * straight into another such span. -1 when there is no such run.
 */
function spanRunEnd(text: string, start: number, matcher: TagMatcher): number {
  let at = start
  for (;;) {
    if (text.charCodeAt(at) !== 0x3c) return -1 // '<'
    const tag = OPEN_TAGS.find((candidate) => text.startsWith(candidate.open, at))
    if (tag === undefined) return -1
    const end = matcher.matchEnd(tag, at)
    if (end < 0) return -1
    let next = end
    while (next < text.length && isTrailingSpace(text.charCodeAt(next))) next++
    if (next === text.length || text.charCodeAt(next) === 0x0a) return end
    at = next
  }
}

/**
 * Removes every well-formed harness span: it opens at the start of a line (outside a fenced code
 * block), its close is matched with nesting counted, and nothing but white space follows the close
 * on its line. An unclosed tag, a tag after other text on its line (quoted, in backticks, mentioned in
 * prose) or a close followed by more text removes nothing.
 */
export function stripHarnessTags(text: string): string {
  // Every tag opens with '<': most texts (tool output, prose) have none and need no scan.
  if (!text.includes('<')) return text
  const matcher = new TagMatcher(text)
  let out = ''
  let copied = 0
  // Tags inside a fenced code block are examples, not injections.
  let fence: Fence | null = null
  for (let lineStart = 0; lineStart < text.length; ) {
    const end: number = fence === null ? spanRunEnd(text, lineStart, matcher) : -1
    if (end >= 0) {
      out += text.slice(copied, lineStart)
      copied = end
    }
    const from = end >= 0 ? end : lineStart
    const newline = text.indexOf('\n', from)
    const lineEnd = newline < 0 ? text.length : newline
    const marker: Fence | null = end < 0 ? fenceAt(text, lineStart) : null
    if (marker !== null) {
      if (fence === null) fence = marker
      else if (marker.char === fence.char && marker.length >= fence.length) fence = null
    }
    lineStart = lineEnd + 1
  }
  return copied === 0 ? text : out + text.slice(copied)
}
