/**
 * RFC 8785 (JCS) serialization of JSON data, producing the same text as the `canonicalize` package
 * for every JSON value: keys sorted by UTF-16 code units, ES number and string formatting. Written
 * here because hashing a node spent most of its time in that package's per-value closures.
 */

/** The canonical JSON text of a JSON value (what JSON.parse returns, or objects of such values). */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`${value} has no JSON form`)
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      // Dates and other objects with a JSON form serialize as that form, as JSON.stringify does.
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
        return canonicalJson((value as { toJSON: () => unknown }).toJSON())
      return Array.isArray(value) ? arrayJson(value) : objectJson(value as Record<string, unknown>)
    default:
      throw new Error(`a ${typeof value} has no JSON form`)
  }
}

/** Omitted members of an object, null elements of an array (JSON.stringify's rule). */
function isAbsent(value: unknown): boolean {
  return value === undefined || typeof value === 'symbol'
}

function arrayJson(array: readonly unknown[]): string {
  let out = '['
  for (let i = 0; i < array.length; i++) {
    if (i > 0) out += ','
    const element = array[i]
    out += isAbsent(element) ? 'null' : canonicalJson(element)
  }
  return `${out}]`
}

function objectJson(object: Record<string, unknown>): string {
  // Array.prototype.sort's default order compares UTF-16 code units, which is what RFC 8785 asks.
  const keys = Object.keys(object).sort()
  let out = '{'
  for (const key of keys) {
    const member = object[key]
    if (isAbsent(member)) continue
    if (out.length > 1) out += ','
    out += `${JSON.stringify(key)}:${canonicalJson(member)}`
  }
  return `${out}}`
}
