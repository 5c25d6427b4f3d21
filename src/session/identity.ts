/**
 * Trusted identity of a turn: the org (tenant) and auth subject, taken only from what the gateway
 * vouches for (Envoy metadata from a verified credential, or headers the gateway sets).
 */
import type { HeaderMap } from '../exchange.js'
import type { EnvelopeOptions, MetadataPath } from './envelope-options.js'
import { checkText, isUuid, rejection } from './identifiers.js'
import { NIL_ORG } from './turn.js'

export type EnvoyMetadata = Readonly<Record<string, Readonly<Record<string, unknown>>>>

function lookup(metadata: EnvoyMetadata, { namespace, path }: MetadataPath): unknown {
  let value: unknown = metadata[namespace]
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

interface Candidate {
  source: string
  value: unknown
}

function candidates(
  headers: HeaderMap,
  metadata: EnvoyMetadata,
  path: MetadataPath | undefined,
  header: string,
  trustHeader: boolean,
  rejected: string[],
): Candidate[] {
  const found: Candidate[] = []
  if (path) {
    const value = lookup(metadata, path)
    if (value !== undefined) found.push({ source: `metadata:${path.namespace}`, value })
  }
  if (headers[header] !== undefined) {
    if (trustHeader) found.push({ source: `header:${header}`, value: headers[header] })
    else rejected.push(rejection(`header:${header}`, 'header_not_trusted'))
  }
  return found
}

/** The first valid candidate; invalid ones are reported and skipped. */
function firstValid(found: Candidate[], check: (value: string) => string | null, rejected: string[]) {
  for (const { source, value } of found) {
    const valid = typeof value === 'string' ? check(value) : null
    if (valid !== null) return valid
    rejected.push(rejection(source, typeof value === 'string' ? 'invalid' : 'not_a_string'))
  }
  return null
}

const checkOrg = (value: string) => (isUuid(value) ? value.toLowerCase() : null)
const checkSubject = (value: string) => {
  const checked = checkText(value)
  return checked.ok ? checked.value : null
}

export function resolveIdentity(
  headers: HeaderMap,
  metadata: EnvoyMetadata,
  options: EnvelopeOptions,
  rejected: string[],
): { orgId: string; authSubject: string | null } {
  const trust = options.identityHeaders
  const orgSources = candidates(headers, metadata, options.orgMetadata, options.orgHeader, trust, rejected)
  const clientOrg = headers[options.clientOrgHeader]
  if (clientOrg !== undefined) {
    if (options.allowClientOrg)
      orgSources.push({ source: `header:${options.clientOrgHeader}`, value: clientOrg })
    else rejected.push(rejection(`header:${options.clientOrgHeader}`, 'client_org_not_allowed'))
  }
  const orgId = firstValid(orgSources, checkOrg, rejected) ?? NIL_ORG
  const subjectSources = candidates(
    headers,
    metadata,
    options.subjectMetadata,
    options.subjectHeader,
    trust,
    rejected,
  )
  return { orgId, authSubject: firstValid(subjectSources, checkSubject, rejected) }
}
