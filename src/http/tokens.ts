/**
 * Read-API bearer tokens: parsed from SESSIONTAP_API_TOKENS (`token:org-uuid,token:org-uuid`) and
 * checked in constant time. A token sees exactly one org; no tokens configured = read API off.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { isUuid } from '../session/identifiers.js'

export interface ApiToken {
  token: string
  orgId: string
}

/** Cookie- and header-safe characters only, so the same token works as a bearer token and a cookie. */
const TOKEN = /^[A-Za-z0-9._~+/=-]{16,256}$/

/** Error messages name the entry's position, never its text: the text is a secret. */
export const apiTokensSchema = z.string().transform((text, ctx): ApiToken[] => {
  const tokens: ApiToken[] = []
  const entries = text.split(',').map((entry) => entry.trim())
  entries.forEach((entry, i) => {
    const at = entry.lastIndexOf(':')
    const token = entry.slice(0, at)
    const orgId = entry.slice(at + 1).toLowerCase()
    const problem =
      at < 0
        ? 'is not token:org-uuid'
        : !TOKEN.test(token)
          ? 'has a token that is not 16-256 characters of A-Z a-z 0-9 . _ ~ + / = -'
          : !isUuid(orgId)
            ? 'has an org that is not a UUID'
            : tokens.some((t) => t.token === token)
              ? 'repeats an earlier token'
              : null
    if (problem) ctx.addIssue({ code: 'custom', message: `entry ${i + 1} ${problem}` })
    else tokens.push({ token, orgId })
  })
  return tokens
})

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest()

export type TokenResolver = (presented: string | undefined) => string | null

/**
 * The org a presented token belongs to, or null. Every configured token is compared, over SHA-256
 * digests of equal length, so the time taken says nothing about which token or prefix matched.
 */
export function createTokenResolver(tokens: readonly ApiToken[]): TokenResolver {
  const known = tokens.map((t) => ({ digest: digest(t.token), orgId: t.orgId }))
  return (presented) => {
    if (presented === undefined || known.length === 0) return null
    const candidate = digest(presented)
    let org: string | null = null
    for (const entry of known) if (timingSafeEqual(candidate, entry.digest)) org = entry.orgId
    return org
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')
  return match?.[1]
}
