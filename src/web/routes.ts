/**
 * The session page under /ui on the admin address. Same tokens as the read API: an
 * `Authorization: Bearer` header, or a cookie set by signing in with the form (POST /ui/sign-in);
 * never a token in the URL. Strict CSP: no script runs on these pages at all.
 */
import type http from 'node:http'
import { listSessionsQuery, noQuery, parseQuery, parseSessionId, parseTurnRefParam } from '../api/params.js'
import { renderTranscriptText } from '../api/transcript-text.js'
import { ApiError } from '../http/errors.js'
import { createOrgRoute, type RouteHandler } from '../http/org-route.js'
import { redirect, sendHtml, sendText } from '../http/respond.js'
import { type ApiToken, bearerToken, createTokenResolver } from '../http/tokens.js'
import type { Logger } from '../log.js'
import type { Driver } from '../store/driver.js'
import { getSession, getTranscript, getTurns, listSessions } from '../store/read/index.js'
import { getTurnRaw } from '../store/turn-bodies.js'
import { messagePage, rawPage, sessionListPage, sessionPage, signInPage } from './pages.js'

export interface SessionPageOptions {
  driver: Driver
  tokens: readonly ApiToken[]
  logger: Logger
}

export const TOKEN_COOKIE = 'sessiontap_token'
/** Characters of transcript text put on the page; the plain-text link has everything. */
const PAGE_TRANSCRIPT_CHARS = 256 * 1024
const COOKIE_MAX_AGE_S = 12 * 60 * 60

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) return part.slice(eq + 1).trim()
  }
  return undefined
}

const SESSION_ROUTE = /^\/ui\/sessions\/([^/]+)(\/transcript)?\/?$/
const RAW_ROUTE = /^\/ui\/sessions\/([^/]+)\/turns\/([^/]+)\/raw\/?$/
/** Characters of each raw body put on the page; GET /v1/sessions/:id/turns/:turn/raw has everything. */
const PAGE_RAW_CHARS = 256 * 1024

async function answer(driver: Driver, orgId: string, res: http.ServerResponse, url: URL): Promise<void> {
  const path = url.pathname
  if (path === '/ui' || path === '/ui/') return redirect(res, '/ui/sessions')
  if (path === '/ui/sessions' || path === '/ui/sessions/') {
    const options = parseQuery(listSessionsQuery, url.searchParams)
    const page = await listSessions(driver, orgId, options)
    const query = new URLSearchParams(url.searchParams)
    query.delete('cursor')
    return sendHtml(res, 200, sessionListPage({ page, query }))
  }
  const raw = RAW_ROUTE.exec(path)
  if (raw) {
    const id = parseSessionId(raw[1]!)
    parseQuery(noQuery, url.searchParams)
    const found = await getTurnRaw(driver, orgId, id, parseTurnRefParam(raw[2]!))
    if (!found) throw new ApiError(404, 'not_found', 'This org has no such session or turn.')
    return sendHtml(res, 200, rawPage({ sessionId: id, turn: found, maxChars: PAGE_RAW_CHARS }))
  }
  const match = SESSION_ROUTE.exec(path)
  if (!match) throw new ApiError(404, 'not_found', 'There is no such page.')
  const id = parseSessionId(match[1]!)
  parseQuery(noQuery, url.searchParams)
  const notFound = new ApiError(404, 'not_found', 'This org has no session with that id.')
  if (match[2]) {
    const transcript = await getTranscript(driver, orgId, id)
    if (!transcript) throw notFound
    return sendText(res, 200, renderTranscriptText(transcript))
  }
  const session = await getSession(driver, orgId, id)
  if (!session) throw notFound
  const [turns, transcript] = await Promise.all([
    getTurns(driver, orgId, id),
    getTranscript(driver, orgId, id),
  ])
  const text = transcript ? renderTranscriptText(transcript) : ''
  sendHtml(
    res,
    200,
    sessionPage({
      session,
      turns: turns?.turns ?? [],
      turnsTruncated: (turns?.nextAfterIndex ?? null) !== null,
      transcriptText: text.slice(0, PAGE_TRANSCRIPT_CHARS),
      transcriptTruncated: text.length > PAGE_TRANSCRIPT_CHARS,
    }),
  )
}

/** The page's error answers: a short page with a title for the status. */
function errorPage(res: http.ServerResponse, err: ApiError): void {
  const title =
    err.status === 401
      ? 'Sign in'
      : err.status === 404
        ? 'Not found'
        : err.status >= 500
          ? 'Error'
          : 'Bad request'
  const text = err.status >= 500 ? 'Something went wrong; the log has the details.' : err.message
  sendHtml(res, err.status, err.status === 401 ? signInPage(text) : messagePage(title, text))
}

/** Reads a small urlencoded form; null when it is larger than `max` bytes. */
async function readForm(req: http.IncomingMessage, max: number): Promise<URLSearchParams | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > max) return null
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

const SIGN_IN_PATH = '/ui/sign-in'
const SIGN_IN_MAX_BYTES = 4096

export function createSessionPageRoute(options: SessionPageOptions): RouteHandler {
  const resolveOrg = createTokenResolver(options.tokens)
  const page = createOrgRoute({
    prefix: '/ui',
    tokens: options.tokens,
    logger: options.logger,
    name: 'session page',
    disabled: new ApiError(
      404,
      'disabled',
      'The session page is off: configure SESSIONTAP_API_TOKENS to enable it.',
    ),
    credential: (req) => bearerToken(req.headers.authorization) ?? cookieToken(req.headers.cookie),
    unauthorized: (url) =>
      new ApiError(
        401,
        'unauthorized',
        url.searchParams.has('token')
          ? 'A token in the URL is not accepted (URLs end up in logs and browser history): sign in here.'
          : 'Sign in with your API token.',
      ),
    handle: async ({ orgId, req, res, url }) => {
      if (req.method !== 'GET') throw new ApiError(405, 'method_not_allowed', 'Only GET is supported here.')
      await answer(options.driver, orgId, res, url)
    },
    renderError: errorPage,
  })
  /** POST /ui/sign-in: a configured token moves into an HttpOnly cookie, then on to the list. */
  const signIn = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const form = await readForm(req, SIGN_IN_MAX_BYTES)
    const token = form?.get('token') ?? null
    if (token === null || resolveOrg(token) === null) {
      return sendHtml(res, 401, signInPage('That token is not configured.'))
    }
    const cookie = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=${COOKIE_MAX_AGE_S}`
    redirect(res, '/ui/sessions', { 'set-cookie': cookie })
  }
  return async (req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (path === SIGN_IN_PATH && req.method === 'POST' && options.tokens.length > 0) {
      await signIn(req, res).catch((err: unknown) => {
        options.logger.error('session page sign-in failed', { err })
        if (!res.headersSent)
          sendHtml(res, 500, messagePage('Error', 'Something went wrong; the log has the details.'))
      })
      return true
    }
    return page(req, res)
  }
}
