/**
 * Validation of client-supplied identifiers and labels (session ids, harness ids, cwd, names): they
 * end up as database keys and dashboard text, so hostile values are refused rather than stored.
 */

export const MAX_ID_LENGTH = 256

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A UUID of any version, any case (org ids, session ids, turn ids). */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}

// UUIDs, ULIDs, base64/base64url tokens, "user@host:thing" and path-like ids; nothing that needs quoting.
const SAFE_ID = /^[A-Za-z0-9._:@/+=-]+$/
const HARNESS_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** C0 controls, DEL and C1 controls: terminal escapes and log forgery, never legitimate in a label. */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true
  }
  return false
}

export type Checked = { ok: true; value: string } | { ok: false; reason: string }

/** A session, thread or parent id: 1-256 characters of a safe charset. */
export function checkIdentifier(value: string): Checked {
  if (value === '') return { ok: false, reason: 'empty' }
  if (value.length > MAX_ID_LENGTH) return { ok: false, reason: 'too_long' }
  if (!SAFE_ID.test(value)) return { ok: false, reason: 'unsafe_characters' }
  return { ok: true, value }
}

/** A harness id such as `claude`, `codex`, `qwen-code`: a short token. */
export function checkHarnessId(value: string): Checked {
  return HARNESS_ID.test(value) ? { ok: true, value } : { ok: false, reason: 'invalid_harness_id' }
}

/** Free text (version, subject, decoded cwd or name): any printable text up to `maxLength`. */
export function checkText(value: string, maxLength = MAX_ID_LENGTH): Checked {
  if (value === '') return { ok: false, reason: 'empty' }
  if (hasControlCharacter(value)) return { ok: false, reason: 'control_characters' }
  if (value.length > maxLength) return { ok: false, reason: 'too_long' }
  return { ok: true, value }
}

/** Records a refusal as `<source>:<reason>`, a low-cardinality label (the value itself is never kept). */
export function rejection(source: string, reason: string): string {
  return `${source}:${reason}`
}
