/**
 * Making strings storable: Postgres text and jsonb reject U+0000 (22021 / 22P05) and jsonb rejects
 * lone UTF-16 surrogates. Both would turn one odd character into a permanently lost turn, so they
 * become U+FFFD. Node hashes are computed before this, so a stored node keeps its original hash.
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** For text columns: empty strings become NULL, so "no value" has one spelling. */
export function storableText(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null
  return value.replaceAll('\u0000', '\ufffd').replace(LONE_SURROGATE, '\ufffd')
}

/**
 * JSON.stringify writes U+0000 as \u0000 and a lone surrogate as \udXXX (a paired one stays raw),
 * so every such escape not itself escaped by a backslash is one jsonb would reject.
 */
const REJECTED_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g

/** For jsonb parameters: JSON text Postgres accepts. */
export function storableJson(value: unknown): string {
  return JSON.stringify(value ?? null).replace(REJECTED_ESCAPE, '$1\\ufffd')
}
