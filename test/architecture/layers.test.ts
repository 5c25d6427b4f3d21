/**
 * The import graph of src/ runs one way. Each folder (or top-level module) may import only the rooms
 * listed for it below, which are all lower in the house; and no chain of imports between files comes
 * back to where it started. docs/architecture.md draws the same table.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = path.resolve(import.meta.dirname, '../../src')

/** Room → the rooms it may import (besides itself). Bottom first. */
const ALLOWED: Record<string, readonly string[]> = {
  exchange: [],
  log: [],
  limits: [],
  'worker-entry': [],
  'mock-upstream': [],
  extproc: ['exchange', 'limits', 'log'],
  providers: ['exchange'],
  session: ['exchange', 'providers'],
  pricing: ['providers'],
  loop: ['exchange', 'providers', 'session'],
  store: ['limits', 'loop', 'providers', 'session', 'worker-entry'],
  http: ['log', 'session', 'store'],
  api: ['http', 'log', 'session', 'store'],
  web: ['api', 'http', 'log', 'store'],
  transfer: ['session', 'store'],
  recorder: ['exchange', 'limits', 'log', 'loop', 'pricing', 'providers', 'session', 'store', 'worker-entry'],
  admin: ['http', 'log'],
  config: ['http', 'log', 'providers', 'session'],
  emulator: ['exchange', 'extproc', 'limits', 'mock-upstream'],
  cli: [
    'admin',
    'api',
    'config',
    'emulator',
    'exchange',
    'extproc',
    'http',
    'limits',
    'log',
    'loop',
    'pricing',
    'providers',
    'recorder',
    'session',
    'store',
    'transfer',
    'web',
  ],
  main: ['cli'],
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) return sourceFiles(full)
    return name.endsWith('.ts') ? [full] : []
  })
}

/** The room of a file: its top folder under src/, or its name for a top-level module. */
function roomOf(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep)
  return rest.length === 0 ? first!.replace(/\.ts$/, '') : first!
}

/** Relative imports of a file (static, dynamic and type-only), resolved to .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!)
  return specifiers.map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts'))
}

const files = sourceFiles(SRC)
const graph = new Map(files.map((file) => [file, importsOf(file)]))

describe('the import graph of src/', () => {
  it('knows every room', () => {
    expect([...new Set(files.map(roomOf))].sort()).toEqual(Object.keys(ALLOWED).sort())
  })

  it('has no import that runs up or sideways out of the allowed table', () => {
    const wrong: string[] = []
    for (const [file, imports] of graph) {
      const from = roomOf(file)
      for (const target of imports) {
        const to = roomOf(target)
        if (to !== from && !ALLOWED[from]?.includes(to)) {
          wrong.push(
            `${path.relative(SRC, file)} → ${path.relative(SRC, target)} (${from} may not import ${to})`,
          )
        }
      }
    }
    expect(wrong).toEqual([])
  })

  it('resolves every relative import to a file', () => {
    const missing = [...graph].flatMap(([file, imports]) =>
      imports
        .filter((t) => !graph.has(t))
        .map((t) => `${path.relative(SRC, file)} → ${path.relative(SRC, t)}`),
    )
    expect(missing).toEqual([])
  })

  it('has no cycle between files', () => {
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(' → '))
        return
      }
      state.set(file, 'open')
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file])
      state.set(file, 'done')
    }
    for (const file of files) visit(file, [])
    expect(cycles).toEqual([])
  })
})
