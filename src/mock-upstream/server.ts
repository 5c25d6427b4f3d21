/**
 * The mock LLM upstream: a node:http server that answers with recorded responses (status, headers,
 * exact body bytes), streaming them at a realistic pace. Used by the compose stack, tests and benchmarks.
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadCases, type RecordedCase } from './cases.js'
import { splitForPacing } from './pacing.js'
import { CASE_HEADER, selectCase } from './select.js'

export interface MockUpstreamOptions {
  /** Case folders, or folders of case folders. */
  casesDir: string | string[]
  /** 0 (the default) picks a free port. */
  port?: number
  /** Defaults to 127.0.0.1. */
  host?: string
  /** Delay before each streamed piece (SSE event or slice), in milliseconds. Defaults to 10. */
  pacingMs?: number
}

export interface MockUpstream {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** Answers with the case count, for container health checks. */
export const HEALTH_PATH = '/_mock/health'
const DEFAULT_PACING_MS = 10

export async function startMockUpstream(options: MockUpstreamOptions): Promise<MockUpstream> {
  const dirs = Array.isArray(options.casesDir) ? options.casesDir : [options.casesDir]
  const cases = loadCases(dirs)
  if (cases.length === 0) throw new Error(`no recorded cases under ${dirs.join(', ')}`)
  const pacingMs = options.pacingMs ?? DEFAULT_PACING_MS

  const server = createServer((request, response) => {
    handle(cases, pacingMs, request, response).catch((error: unknown) => {
      // The client went away mid-stream, or the socket failed: nothing left to answer.
      response.destroy(error instanceof Error ? error : undefined)
    })
  })
  // Outlive the proxy's pooled connections: with Node's 5 s default, Envoy can reuse a connection the
  // mock is closing and answer its client 503.
  server.keepAliveTimeout = 75_000
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1')
  await once(server, 'listening')
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

async function handle(
  cases: readonly RecordedCase[],
  pacingMs: number,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const body = await readBody(request)
  const requestPath = request.url ?? '/'
  if (request.method === 'GET' && requestPath === HEALTH_PATH) {
    sendJson(response, 200, { status: 'ok', cases: cases.length })
    return
  }
  const caseHeader = request.headers[CASE_HEADER]
  const selection = selectCase(cases, {
    method: request.method ?? 'GET',
    path: requestPath,
    caseName: Array.isArray(caseHeader) ? caseHeader[0] : caseHeader,
    body,
  })
  if (!selection.case) {
    sendJson(response, 404, { error: { type: 'mock_case_not_found', message: selection.reason } })
    return
  }
  await replay(selection.case, pacingMs, response)
}

async function replay(recorded: RecordedCase, pacingMs: number, response: ServerResponse): Promise<void> {
  const pieces = splitForPacing(recorded.body, recorded.contentType, recorded.contentEncoding)
  const headers: Record<string, string | string[] | number> = {
    ...recorded.headers,
    [CASE_HEADER]: recorded.name,
  }
  // A single piece goes out with its length; a paced stream goes chunked, as providers send SSE.
  if (pieces.length <= 1) headers['content-length'] = recorded.body.length
  response.writeHead(recorded.status, headers)
  response.flushHeaders()
  for (const piece of pieces) {
    if (pieces.length > 1 && pacingMs > 0) await sleep(pacingMs)
    if (response.destroyed) return
    if (!response.write(piece)) await drained(response)
  }
  response.end()
}

/** Resolves when the socket can take more, or is gone (a departed client never drains). */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done)
      response.off('close', done)
      resolve()
    }
    response.on('drain', done)
    response.on('close', done)
  })
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}
