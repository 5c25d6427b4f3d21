/**
 * Where the shared recorded corpus lives (../shared/corpus beside the repository), and whether it is
 * there. Corpus tests skip with this message when it is not; they never copy its files.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'

export const CORPUS_DIR = path.resolve(import.meta.dirname, '../../../shared/corpus')
export const CORPUS_PRESENT = existsSync(CORPUS_DIR)

export function noteCorpusSkip(suite: string): void {
  if (!CORPUS_PRESENT) console.warn(`${suite}: skipped, the recorded corpus is not at ${CORPUS_DIR}`)
}
