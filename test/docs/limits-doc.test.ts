/** docs/deploy.md's table of built-in limits states the values src/limits.ts holds. */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LIMITS } from '../../src/limits.js'

const DEPLOY = readFileSync(path.resolve(import.meta.dirname, '../../docs/deploy.md'), 'utf8')
const MiB = 1024 * 1024

/** The value cell of the table row whose first cell starts with `label`. */
function documented(label: string): string {
  const row = DEPLOY.split('\n').find((line) => line.startsWith(`| ${label}`))
  if (!row) throw new Error(`docs/deploy.md has no limits row "${label}"`)
  return row.split('|')[2]!.trim()
}

describe('docs/deploy.md built-in limits', () => {
  it.each([
    ['ext_proc message', `${LIMITS.grpcMessageBytes / MiB} MiB`],
    ['a body after undoing', `${LIMITS.decodedBodyBytes / MiB} MiB`],
    [
      "a compressed body's growth",
      `${LIMITS.decodedBodyRatio}× its size (at least ${LIMITS.decodedBodyFloorBytes / MiB} MiB)`,
    ],
    ['raw body bytes of built turns', `${LIMITS.queueBytes / MiB} MiB`],
    ['raw body bytes of exchanges waiting', `${LIMITS.parsePendingBytes / MiB} MiB`],
    ['raw body bytes from which', `${LIMITS.bigBodyBytes / MiB} MiB`],
    ['one exchange in a parse worker', `${LIMITS.parseJobTimeoutMs / 1000} s`],
    ['heap (old generation)', `${LIMITS.parseWorkerHeapMb} MiB`],
    ['each raw body kept', `${LIMITS.rawBodyBytes / MiB} MiB`],
    ['node cache of each parse worker', `${LIMITS.nodeCacheBytes / MiB} MiB`],
  ])('%s: %s', (label, value) => {
    expect(documented(label)).toBe(value)
  })
})
