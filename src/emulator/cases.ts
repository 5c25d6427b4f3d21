/**
 * Recorded exchanges (the corpus folder layout) as emulator input: the request as the client sent it
 * and the response as the upstream answered, reusing the mock upstream's reader for the response side.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { loadCases, type RecordedCase } from '../mock-upstream/cases.js'
import type { HttpExchangeSpec } from './types.js'

const REQUEST_HEADERS = z.object({
  method: z.string(),
  path: z.string(),
  url: z.string().optional(),
  headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
})

export interface ExchangeCase {
  name: string
  folder: string
  spec: HttpExchangeSpec
  recorded: RecordedCase
}

/** Each directory is a case folder or holds case folders (like ../shared/corpus). */
export function loadExchangeCases(dirs: readonly string[]): ExchangeCase[] {
  return loadCases(dirs).map((recorded) => {
    const folder = recorded.folder
    const request = REQUEST_HEADERS.parse(
      JSON.parse(readFileSync(path.join(folder, 'request.headers.json'), 'utf8')),
    )
    const authority = request.url ? new URL(request.url).host : 'localhost'
    const headers: Array<[string, string]> = []
    for (const [name, value] of Object.entries(request.headers)) {
      for (const v of Array.isArray(value) ? value : [value]) headers.push([name.toLowerCase(), v])
    }
    const responseHeaders: Array<[string, string]> = []
    for (const [name, value] of Object.entries(recorded.headers)) {
      for (const v of Array.isArray(value) ? value : [value]) responseHeaders.push([name, v])
    }
    return {
      name: recorded.name,
      folder,
      recorded,
      spec: {
        name: recorded.name,
        request: {
          method: request.method.toUpperCase(),
          path: request.path,
          authority,
          scheme: 'https',
          headers,
          body: readFileSync(path.join(folder, 'request.json')),
        },
        response: { status: recorded.status, headers: responseHeaders, body: recorded.body },
      },
    }
  })
}
