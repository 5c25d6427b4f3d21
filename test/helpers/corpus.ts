/**
 * Where the shared recorded corpus lives (../shared/corpus beside the repository), and whether it is
 * there. Corpus tests skip with this message when it is not; they never copy its files.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Exchange } from '../../src/exchange.js'

export const CORPUS_DIR = path.resolve(import.meta.dirname, '../../../shared/corpus')
export const CORPUS_PRESENT = existsSync(CORPUS_DIR)

export function noteCorpusSkip(suite: string): void {
  if (!CORPUS_PRESENT) console.warn(`${suite}: skipped, the recorded corpus is not at ${CORPUS_DIR}`)
}

/** The recorded 17-call Claude Code session as Exchanges (gzip responses left encoded), or null when the corpus is absent. */
export function claudeCodeExchanges(corpus = CORPUS_DIR): Exchange[] | null {
  const dirs = Array.from({ length: 17 }, (_, i) =>
    path.join(corpus, `anthropic-claudecode-session-turn${String(i + 1).padStart(2, '0')}`),
  )
  if (!existsSync(corpus)) return null
  return dirs.map((dir, i) => {
    const read = (file: string) => readFileSync(path.join(dir, file))
    const requestMeta = JSON.parse(read('request.headers.json').toString('utf8'))
    const responseMeta = JSON.parse(read('response.headers.json').toString('utf8'))
    const body = (bytes: Buffer, encoding?: string) => ({
      chunks: [bytes],
      size: bytes.length,
      encoding,
      complete: true,
    })
    return {
      requestId: `corpus-${i + 1}`,
      request: {
        method: 'POST',
        path: requestMeta.path,
        authority: 'api.anthropic.com',
        scheme: 'https',
        headers: requestMeta.headers,
        body: body(read('request.json')),
      },
      response: {
        status: responseMeta.status,
        headers: { 'content-type': responseMeta.content_type },
        body: body(read('response.body'), responseMeta.content_encoding),
      },
      timing: { startedAt: 0, firstResponseAt: 1, endedAt: 2 },
      ending: 'complete',
      observability: false,
      attributes: {},
      metadata: {},
    }
  })
}
