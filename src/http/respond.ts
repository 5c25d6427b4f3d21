/**
 * Every answer of the admin HTTP server goes out through here: JSON, plain text, HTML and
 * redirects, each with the same base headers that keep answers (org data) out of caches and stop
 * content sniffing. HTML adds a strict CSP: no script runs on these pages at all.
 */
import type http from 'node:http'

type Headers = Record<string, string>

const BASE_HEADERS: Headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }

const HTML_HEADERS: Headers = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string, headers: Headers) {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...BASE_HEADERS,
    ...headers,
  })
  res.end(body)
}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Headers = {},
): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers)
}

export function sendText(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: Headers = {},
): void {
  send(res, status, 'text/plain; charset=utf-8', text, headers)
}

export function sendHtml(
  res: http.ServerResponse,
  status: number,
  html: string,
  headers: Headers = {},
): void {
  send(res, status, 'text/html; charset=utf-8', html, { ...HTML_HEADERS, ...headers })
}

export function redirect(res: http.ServerResponse, location: string, headers: Headers = {}): void {
  send(res, 303, 'text/plain; charset=utf-8', '', { location, ...headers })
}
