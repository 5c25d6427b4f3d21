/**
 * Text projection before hashing: strip the context that agent harnesses inject into messages, then
 * normalize whitespace, so the same conversation hashes the same whichever reminders rode along.
 */
import { stripHarnessTags } from './harness-tags.js'

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
