/**
 * Exclusive lock on an embedded data directory. PGlite does not stop two processes from opening
 * the same files (the second silently loses writes), so the directory holds an O_EXCL lock file
 * with the owner's pid; a lock whose pid is no longer alive is stale and taken over.
 */
import fs from 'node:fs'
import path from 'node:path'

export const LOCK_FILE_NAME = 'sessiontap.lock'

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `data directory ${dataDir} is in use by process ${ownerPid} (lock file ${path.join(dataDir, LOCK_FILE_NAME)}). ` +
        'Only one sessiontap process can use an embedded database: stop the other process, choose another data ' +
        'directory, or set DATABASE_URL to share a Postgres server.',
    )
    this.name = 'DataDirLockedError'
  }
}

export interface DataDirLock {
  readonly lockPath: string
  release(): void
}

function isAlive(pid: number): boolean {
  // Our own pid in a lock we did not take is a previous incarnation (containers reuse pid 1).
  if (pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/**
 * Creates the lock file with our pid already in it: the pid goes into a private file that
 * is then hard-linked into place (link fails with EEXIST like O_EXCL), so no lock file is ever seen without its pid.
 */
function tryCreate(lockPath: string): boolean {
  const mine = `${lockPath}.${process.pid}`
  fs.writeFileSync(mine, `${process.pid}\n`)
  try {
    fs.linkSync(mine, lockPath)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    fs.rmSync(mine, { force: true })
  }
}

/**
 * Moves a stale lock aside atomically. Returns false when another process replaced it with a live
 * lock between our read and the rename (the renamed file is then put back).
 */
function takeOverStale(lockPath: string, stalePid: number | null): boolean {
  const aside = `${lockPath}.stale-${process.pid}`
  try {
    fs.renameSync(lockPath, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw err
  }
  const movedPid = readPid(aside)
  if (movedPid !== stalePid && movedPid !== null && isAlive(movedPid)) {
    try {
      fs.linkSync(aside, lockPath)
    } catch {
      // Someone else holds the lock path now; either way we did not win.
    }
    fs.rmSync(aside, { force: true })
    return false
  }
  fs.rmSync(aside, { force: true })
  return true
}

/** Locks held by this process: our own pid in a lock file is only stale when it is not in here. */
const heldHere = new Set<string>()

export function acquireDataDirLock(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true })
  const lockPath = path.join(path.resolve(dataDir), LOCK_FILE_NAME)
  if (heldHere.has(lockPath)) throw new DataDirLockedError(dataDir, process.pid)
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(lockPath)) {
      heldHere.add(lockPath)
      let released = false
      const release = (): void => {
        if (released) return
        released = true
        process.off('exit', release)
        heldHere.delete(lockPath)
        if (readPid(lockPath) === process.pid) fs.rmSync(lockPath, { force: true })
      }
      process.on('exit', release)
      return { lockPath, release }
    }
    const ownerPid = readPid(lockPath)
    if (ownerPid !== null && isAlive(ownerPid)) throw new DataDirLockedError(dataDir, ownerPid)
    if (!takeOverStale(lockPath, ownerPid)) break
  }
  throw new DataDirLockedError(dataDir, readPid(lockPath) ?? -1)
}
