/**
 * Envoy's header mutation rules as an ext_proc server meets them (envoy source/extensions/filters/http/
 * ext_proc/mutation_utils.cc): removals first,
 * then sets; raw_value only; `append` decides add vs overwrite; routing and x-envoy-* headers are
 * ignored; content-length is skipped where Envoy strips it. Errors are what Envoy turns into a 500.
 */
import type { HeaderMutation } from '../extproc/messages.js'

export type HeaderList = Array<[string, string]>

const TOKEN = /^:?[!#$%&'*+\-.^_`|~0-9a-z]+$/
const ROUTING = new Set(['host', ':authority', ':method', ':scheme'])

export interface MutationOutcome {
  errors: string[]
  /** Mutations Envoy ignores silently (counted in its rejected_header_mutations stat). */
  rejected: number
  warnings: string[]
}

export function applyHeaderMutation(
  headers: HeaderList,
  mutation: HeaderMutation | undefined,
  options: { contentLengthStripped: boolean; replace: boolean },
): MutationOutcome {
  const outcome: MutationOutcome = { errors: [], rejected: 0, warnings: [] }
  if (!mutation) return outcome
  for (const raw of mutation.remove_headers ?? []) {
    const name = raw.toLowerCase()
    if (!TOKEN.test(name)) {
      outcome.errors.push(`invalid header name to remove: ${JSON.stringify(raw)}`)
      continue
    }
    if (name.startsWith(':') || ROUTING.has(name) || name.startsWith('x-envoy-')) {
      outcome.rejected++
      continue
    }
    for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === name) headers.splice(i, 1)
  }
  for (const option of mutation.set_headers ?? []) {
    const h = option.header
    if (!h) continue
    const name = (h.key ?? '').toLowerCase()
    const raw = h.raw_value ? Buffer.from(h.raw_value).toString('utf8') : ''
    if (h.value && raw) {
      outcome.errors.push(`header ${name}: only one of value or raw_value may be set`)
      continue
    }
    if (h.value) outcome.warnings.push(`header ${name}: value is ignored since Envoy 1.32; set raw_value`)
    if (!TOKEN.test(name) || /[\0\r\n]/.test(raw)) {
      outcome.errors.push(`invalid header ${JSON.stringify(name)}`)
      continue
    }
    const routingAllowed = name === ':method' && options.replace
    if ((ROUTING.has(name) && !routingAllowed) || name.startsWith('x-envoy-')) {
      outcome.rejected++
      continue
    }
    if (name === 'content-length' && options.contentLengthStripped) continue
    if (option.append?.value === true) headers.push([name, raw])
    else {
      const at = headers.findIndex(([k]) => k === name)
      for (let i = headers.length - 1; i > at && at >= 0; i--)
        if (headers[i]![0] === name) headers.splice(i, 1)
      if (at >= 0) headers[at] = [name, raw]
      else headers.push([name, raw])
    }
  }
  return outcome
}
