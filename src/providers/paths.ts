/** Request-path helpers: detection and parsers look at the path without its query string. */

/** The path without query string, fragment or trailing slashes. */
export function pathOnly(path: string): string {
  const cut = path.search(/[?#]/)
  const bare = cut === -1 ? path : path.slice(0, cut)
  return bare.replace(/\/+$/, '')
}
