/**
 * The read API on the admin address: JSON over /v1/sessions, every call scoped to the org of its
 * bearer token. Mounted as an admin RouteHandler; with no tokens configured it answers 404.
 */
import type http from 'node:http'
import { ApiError } from '../http/errors.js'
import { createOrgRoute, type RouteHandler } from '../http/org-route.js'
import { sendJson, sendText } from '../http/respond.js'
import { type ApiToken, bearerToken } from '../http/tokens.js'
import type { Logger } from '../log.js'
import type { Driver } from '../store/driver.js'
import { deleteSession, getSession, getTranscript, getTurns, listSessions } from '../store/read/index.js'
import { getTurnRaw } from '../store/turn-bodies.js'
import {
  listSessionsQuery,
  noQuery,
  parseQuery,
  parseSessionId,
  parseTurnRefParam,
  transcriptQuery,
  turnsQuery,
} from './params.js'
import { renderTranscriptText } from './transcript-text.js'

export interface ReadApiOptions {
  driver: Driver
  tokens: readonly ApiToken[]
  logger: Logger
}

const ROUTE = /^\/v1\/sessions(?:\/([^/]+)(?:\/(turns|transcript))?)?\/?$/

const RAW_ROUTE = /^\/v1\/sessions\/([^/]+)\/turns\/([^/]+)\/raw\/?$/

const notFound = (): ApiError => new ApiError(404, 'not_found', 'no such session')

function allow(methods: string[], method: string | undefined): void {
  if (!methods.includes(method ?? '')) {
    throw new ApiError(405, 'method_not_allowed', `use ${methods.join(' or ')}`, {
      allow: methods.join(', '),
    })
  }
}

async function answer(
  driver: Driver,
  orgId: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> {
  const raw = RAW_ROUTE.exec(url.pathname)
  if (raw) {
    allow(['GET'], req.method)
    parseQuery(noQuery, url.searchParams)
    const found = await getTurnRaw(driver, orgId, parseSessionId(raw[1]!), parseTurnRefParam(raw[2]!))
    if (!found) throw new ApiError(404, 'not_found', 'no such session or turn')
    if (!found.raw) throw new ApiError(404, 'no_raw_bodies', 'no raw bodies were stored for this turn')
    return sendJson(res, 200, found)
  }
  const match = ROUTE.exec(url.pathname)
  if (!match) throw new ApiError(404, 'not_found', `no route ${url.pathname}`)
  const [, rawId, sub] = match
  if (rawId === undefined) {
    allow(['GET'], req.method)
    const page = await listSessions(driver, orgId, parseQuery(listSessionsQuery, url.searchParams))
    return sendJson(res, 200, page)
  }
  const id = parseSessionId(rawId)
  if (sub === 'turns') {
    allow(['GET'], req.method)
    const page = await getTurns(driver, orgId, id, parseQuery(turnsQuery, url.searchParams))
    if (!page) throw notFound()
    return sendJson(res, 200, page)
  }
  if (sub === 'transcript') {
    allow(['GET'], req.method)
    const { format } = parseQuery(transcriptQuery, url.searchParams)
    const transcript = await getTranscript(driver, orgId, id)
    if (!transcript) throw notFound()
    return format === 'text'
      ? sendText(res, 200, renderTranscriptText(transcript))
      : sendJson(res, 200, transcript)
  }
  allow(['GET', 'DELETE'], req.method)
  parseQuery(noQuery, url.searchParams)
  if (req.method === 'DELETE') {
    const deleted = await deleteSession(driver, orgId, id)
    if (!deleted) throw notFound()
    return sendJson(res, 200, { deleted })
  }
  const session = await getSession(driver, orgId, id)
  if (!session) throw notFound()
  sendJson(res, 200, { session })
}

export function createReadApiRoute(options: ReadApiOptions): RouteHandler {
  return createOrgRoute({
    prefix: '/v1',
    tokens: options.tokens,
    logger: options.logger,
    name: 'read API',
    disabled: new ApiError(
      404,
      'api_disabled',
      'the read API is off: configure SESSIONTAP_API_TOKENS to enable it',
    ),
    credential: (req) => bearerToken(req.headers.authorization),
    unauthorized: () =>
      new ApiError(401, 'unauthorized', 'send Authorization: Bearer <token> with a configured token', {
        'www-authenticate': 'Bearer realm="sessiontap"',
      }),
    handle: ({ orgId, req, res, url }) => answer(options.driver, orgId, req, res, url),
    renderError: (res, err) =>
      sendJson(res, err.status, { error: { code: err.code, message: err.message } }, err.headers),
  })
}
