/**
 * The embedded data directory admits one process: a second opener gets a clear error, and a lock
 * left by a dead process is taken over.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE_NAME } from '../../src/store/data-dir-lock.js'
import { openStore } from '../../src/store/store.js'

const dirs: string[] = []
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-lock-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  })
  return Number(child.stdout)
}

async function openInChild(dataDir: string): Promise<{ opened: boolean; name?: string; message?: string }> {
  const script = path.join(import.meta.dirname, 'open-store-child.ts')
  const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk) => {
    out += chunk
  })
  await new Promise((resolve) => child.on('close', resolve))
  return JSON.parse(out.trim().split('\n').at(-1)!)
}

describe('embedded data directory lock', () => {
  it('refuses a second process with a message naming the owner, and admits it after close', async () => {
    const dataDir = tempDir()
    const store = await openStore({ dataDir })
    try {
      const second = await openInChild(dataDir)
      expect(second.opened).toBe(false)
      expect(second.name).toBe('DataDirLockedError')
      expect(second.message).toContain(`in use by process ${process.pid}`)
      expect(second.message).toContain('DATABASE_URL')
    } finally {
      await store.close()
    }
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE_NAME))).toBe(false)
    expect(await openInChild(dataDir)).toEqual({ opened: true })
  })

  it('refuses a second opener inside the same process', () => {
    const dataDir = tempDir()
    const lock = acquireDataDirLock(dataDir)
    try {
      expect(() => acquireDataDirLock(dataDir)).toThrow(DataDirLockedError)
    } finally {
      lock.release()
    }
    acquireDataDirLock(dataDir).release()
  })

  it('takes over a lock whose process is dead', () => {
    const dataDir = tempDir()
    const lockPath = path.join(dataDir, LOCK_FILE_NAME)
    fs.writeFileSync(lockPath, `${deadPid()}\n`)
    const lock = acquireDataDirLock(dataDir)
    expect(fs.readFileSync(lockPath, 'utf8').trim()).toBe(String(process.pid))
    lock.release()
    expect(fs.existsSync(lockPath)).toBe(false)
  })

  it('treats an unreadable lock (no pid) as stale', () => {
    const dataDir = tempDir()
    fs.writeFileSync(path.join(dataDir, LOCK_FILE_NAME), 'garbage')
    acquireDataDirLock(dataDir).release()
  })

  it('keeps a lock held by a live process', () => {
    const dataDir = tempDir()
    const lockPath = path.join(dataDir, LOCK_FILE_NAME)
    // The parent of this test process is alive and is not us.
    fs.writeFileSync(lockPath, `${process.ppid}\n`)
    expect(() => acquireDataDirLock(dataDir)).toThrow(`in use by process ${process.ppid}`)
    expect(fs.readFileSync(lockPath, 'utf8').trim()).toBe(String(process.ppid))
  })
})
