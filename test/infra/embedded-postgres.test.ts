/**
 * The embedded-Postgres helper where a newcomer runs it: from a clone inside a private (0700) folder,
 * as root, where the `postgres` user that Postgres must run as cannot reach node_modules. It starts
 * there, and a Postgres that cannot start fails within seconds with one line saying why.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cachedBinaries } from '../helpers/embedded-postgres.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const PACKAGE = `@embedded-postgres/${os.platform()}-${os.arch()}`
const IS_ROOT = process.getuid?.() === 0

/** Hard links (copies across filesystems) of a folder tree, as a clone would hold it. */
function linkTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true })
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name)
    const target = path.join(to, entry.name)
    if (entry.isDirectory()) linkTree(source, target)
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target)
    else {
      try {
        fs.linkSync(source, target)
      } catch {
        fs.copyFileSync(source, target)
      }
    }
  }
}

let privateDir: string

/** Runs the helper of the private clone in a process of its own; it prints its URL and stops on stdin's end. */
function runHelper(env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(privateDir, 'clone/drive.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s
  })
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const started = new Promise<{ url: string; source: string }>((resolve, reject) => {
    child.stdout.on('data', () => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'))
      if (line) resolve(JSON.parse(line) as { url: string; source: string })
    })
    exited.then((code) => reject(new Error(`helper exited ${code}: ${stderr.trim()}`)))
  })
  return { child, started, exited, stderr: () => stderr }
}

describe.skipIf(!IS_ROOT)('embedded Postgres from a clone in a private folder, as root', () => {
  const children: ChildProcess[] = []

  beforeAll(() => {
    privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-private-'))
    expect(fs.statSync(privateDir).mode & 0o777).toBe(0o700)
    const clone = path.join(privateDir, 'clone')
    const packageDir = path.join(ROOT, 'node_modules', PACKAGE)
    linkTree(packageDir, path.join(clone, 'node_modules', PACKAGE))
    fs.mkdirSync(path.join(clone, 'test/helpers'), { recursive: true })
    fs.copyFileSync(
      path.join(ROOT, 'test/helpers/embedded-postgres.ts'),
      path.join(clone, 'test/helpers/embedded-postgres.ts'),
    )
    fs.writeFileSync(path.join(clone, 'package.json'), '{ "type": "module" }\n')
    fs.writeFileSync(
      path.join(clone, 'drive.ts'),
      [
        "import { startEmbeddedPostgres } from './test/helpers/embedded-postgres.ts'",
        'const server = await startEmbeddedPostgres()',
        "console.log(JSON.stringify({ url: server.urlFor('postgres'), source: server.source }))",
        'process.stdin.resume()',
        "process.stdin.on('end', () => server.destroy())",
      ].join('\n'),
    )
  })
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL')
    fs.rmSync(privateDir, { recursive: true, force: true })
  })

  it('starts a server the tests can use, running as the postgres user', async () => {
    const helper = runHelper()
    children.push(helper.child)
    const { url, source } = await helper.started
    expect(source).toMatch(/^embedded-postgres .* \(copied to /)
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { rows } = await client.query('SELECT current_user AS who, 1 + 1 AS two')
      expect(rows[0]).toEqual({ who: 'postgres', two: 2 })
    } finally {
      await client.end()
    }
    helper.child.stdin.end()
    expect(await helper.exited).toBe(0)
  })

  it('fails within seconds, in one line saying why, when the postgres user cannot reach the data', async () => {
    const hidden = path.join(privateDir, 'tmp')
    fs.mkdirSync(hidden, { mode: 0o700 })
    const began = Date.now()
    const helper = runHelper({ TMPDIR: hidden })
    children.push(helper.child)
    await expect(helper.started).rejects.toThrow(/world-traversable.*TEST_DATABASE_URL/)
    expect(Date.now() - began).toBeLessThan(20_000)
    expect(helper.stderr()).toMatch(/PostgresUnavailable: cannot run .*initdb: the postgres user \(uid \d+\)/)
  })
})

describe('the world-traversable copy of the binaries', () => {
  it('is built once, atomically, with the modes of the original', () => {
    const native = path.join(ROOT, 'node_modules', PACKAGE, 'native')
    const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-cache-'))
    try {
      const first = cachedBinaries({ dir: native, version: '0.0.0-test' }, cacheRoot)
      expect(cachedBinaries({ dir: native, version: '0.0.0-test' }, cacheRoot)).toBe(first)
      expect(fs.readdirSync(cacheRoot)).toEqual([path.basename(first)])
      expect(fs.statSync(first).mode & 0o777).toBe(0o755)
      expect(fs.statSync(path.join(first, 'bin/postgres')).mode & 0o777).toBe(
        fs.statSync(path.join(native, 'bin/postgres')).mode & 0o777,
      )
    } finally {
      fs.rmSync(cacheRoot, { recursive: true, force: true })
    }
  })
})
