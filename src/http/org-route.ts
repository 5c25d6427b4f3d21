/**
 * Routes scoped to one org by a bearer token (the read API under /v1, the page under /ui): the
 * prefix match, the "off without tokens" answer, token resolution, and one error path (client
 * errors rendered by the route, anything else logged and answered 500) live here once.
 */
import type http from 'node:http'
import type { Logger } from '../log.js'
import { ApiError, clientError } from './errors.js'
import { type ApiToken, createTokenResolver } from './tokens.js'

/** An admin route: returns true when it answered the request. */
export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean> | boolean

export interface OrgRouteOptions {
  /** The path prefix the route owns: `prefix` itself and everything under `prefix/`. */
  prefix: string
  tokens: readonly ApiToken[]
  logger: Logger
  /** What the log calls a failed request of this route. */
  name: string
  /** Answered to every request while no tokens are configured. */
  disabled: ApiError
  /** The token the request carries, if any. */
  credential: (req: http.IncomingMessage, url: URL) => string | undefined
  /** Answered when the request carries no configured token. */
  unauthorized: (url: URL) => ApiError
  /** Answers a request of an org; throws ApiError (or a mapped error) for the client's mistakes. */
  handle: (org: OrgRequest) => Promise<void>
  /** Renders a client error (JSON for the API, a page for /ui). */
  renderError: (res: http.ServerResponse, err: ApiError) => void
}

export interface OrgRequest {
  orgId: string
  req: http.IncomingMessage
  res: http.ServerResponse
  url: URL
}

export function createOrgRoute(options: OrgRouteOptions): RouteHandler {
  const resolve = createTokenResolver(options.tokens)
  const enabled = options.tokens.length > 0
  const { prefix } = options
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid')
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return false
    try {
      if (!enabled) throw options.disabled
      const orgId = resolve(options.credential(req, url))
      if (orgId === null) throw options.unauthorized(url)
      await options.handle({ orgId, req, res, url })
    } catch (err) {
      const client = clientError(err)
      if (res.headersSent) res.destroy()
      else if (client) options.renderError(res, client)
      else {
        options.logger.error(`${options.name} request failed`, { err, path: url.pathname })
        options.renderError(res, new ApiError(500, 'internal', 'internal error'))
      }
    }
    return true
  }
}
