/** Request-path helpers: detection and parsers look at the path without its query string. */

/** The path without query string, fragment or trailing slashes. */
export function pathOnly(path: string): string {
  const cut = path.search(/[?#]/)
  const bare = cut === -1 ? path : path.slice(0, cut)
  return bare.replace(/\/+$/, '')
}

/** The value of one query parameter, or null. */
export function queryParam(path: string, name: string): string | null {
  const q = path.indexOf('?')
  if (q === -1) return null
  return new URLSearchParams(path.slice(q + 1).split('#')[0]).get(name)
}
