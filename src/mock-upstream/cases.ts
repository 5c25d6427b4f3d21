/**
 * Loads recorded exchanges in the corpus folder layout (request.json, request.headers.json,
 * response.body, response.headers.json) so the mock upstream can replay them byte for byte.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'

export interface RecordedCase {
  /** The case folder's name; `x-mock-case: <name>` selects it. */
  readonly name: string
  /** The case folder itself. */
  readonly folder: string
  readonly method: string
  /** The recorded path without its query string. */
  readonly path: string
  /** SHA-256 (hex) of request.json, to recognise a replayed request. */
  readonly requestSha256: string
  /** The recorded request body's `stream` flag, when it is a JSON object that has one. */
  readonly requestStream: boolean | undefined
  readonly status: number
  readonly contentType: string | undefined
  readonly contentEncoding: string | undefined
  /** Recorded response headers minus hop-by-hop ones, lowercase names; a list is a repeated header. */
  readonly headers: Readonly<Record<string, string | string[]>>
  /** The response body exactly as recorded (still content-encoded). */
  readonly body: Buffer
}

const REQUEST_HEADERS = z.object({ method: z.string(), path: z.string() })
const RESPONSE_HEADERS = z.object({
  status: z.number().int(),
  content_type: z.string().nullish(),
  content_encoding: z.string().nullish(),
  headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
})

/** Framing headers are the server's to choose for the bytes it actually sends. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade'])
const CASE_MARKER = 'response.body'

/** Each directory is a case folder itself or holds case folders; cases are returned sorted by name. */
export function loadCases(dirs: readonly string[]): RecordedCase[] {
  const folders = dirs.flatMap((dir) => {
    if (existsSync(path.join(dir, CASE_MARKER))) return [dir]
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, CASE_MARKER)))
      .map((entry) => path.join(dir, entry.name))
  })
  return folders.map(loadCase).sort((a, b) => a.name.localeCompare(b.name))
}

export function loadCase(folder: string): RecordedCase {
  const read = (file: string) => readFileSync(path.join(folder, file))
  const request = REQUEST_HEADERS.parse(JSON.parse(read('request.headers.json').toString('utf8')))
  const response = RESPONSE_HEADERS.parse(JSON.parse(read('response.headers.json').toString('utf8')))
  const requestBody = read('request.json')
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers[name.toLowerCase()] = value
  }
  const contentType = response.content_type ?? firstValue(headers['content-type'])
  const contentEncoding = response.content_encoding ?? firstValue(headers['content-encoding'])
  if (contentType) headers['content-type'] = contentType
  if (contentEncoding) headers['content-encoding'] = contentEncoding
  return {
    name: path.basename(folder),
    folder,
    method: request.method.toUpperCase(),
    path: stripQuery(request.path),
    requestSha256: sha256Hex(requestBody),
    requestStream: streamFlag(requestBody),
    status: response.status,
    contentType,
    contentEncoding,
    headers,
    body: read('response.body'),
  }
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** `stream` of a JSON object body, or undefined when the body is not such an object. */
export function streamFlag(body: Buffer): boolean | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    if (typeof parsed === 'object' && parsed !== null && 'stream' in parsed) return parsed.stream === true
  } catch {
    // Not JSON: no flag.
  }
  return undefined
}

export function stripQuery(requestPath: string): string {
  const query = requestPath.indexOf('?')
  return query === -1 ? requestPath : requestPath.slice(0, query)
}
