/**
 * The embedded driver runs PGlite on a worker thread: the main thread stays free while a statement
 * runs, Postgres errors keep their fields across the thread, transactions commit or roll back as
 * their function ends, and a worker that dies fails its requests cleanly. Real PGlite, no mocks.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acquireDataDirLock } from '../../src/store/data-dir-lock.js'
import { classifyStoreError } from '../../src/store/errors.js'
import { openPgliteDriver, type PgliteDriver } from '../../src/store/pglite-driver.js'

const dirs: string[] = []
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-pglite-driver-'))
  dirs.push(dir)
  return dir
}

/** One database for the tests that do not end it (opening one costs seconds); a fresh table each. */
let shared: PgliteDriver
let tables = 0
async function freshTable(): Promise<string> {
  const name = `t${++tables}`
  await shared.exec(`CREATE TABLE ${name} (id int PRIMARY KEY, body bytea)`)
  return name
}
beforeAll(async () => {
  shared = await openPgliteDriver(tempDir())
})
afterAll(async () => {
  await shared.close()
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
})

/** A statement that keeps Postgres busy for a few hundred milliseconds without touching the disk. */
const HEAVY = 'SELECT sum(length(md5(g::text)))::int AS n FROM generate_series(1, 1000000) g'

describe('PGlite driver on a worker thread', () => {
  it('leaves the event loop free while a long statement runs', async () => {
    const driver = shared
    const delay = monitorEventLoopDelay({ resolution: 1 })
    delay.enable()
    // The histogram samples on a timer: let it start before the statement.
    await new Promise((resolve) => setTimeout(resolve, 20))
    const started = performance.now()
    const { rows } = await driver.query<{ n: number }>(HEAVY)
    const took = performance.now() - started
    await new Promise((resolve) => setTimeout(resolve, 5))
    delay.disable()
    expect(rows[0]!.n).toBe(32_000_000)
    // Run on this thread, the statement would show as one stall as long as itself.
    expect(took).toBeGreaterThan(200)
    expect(delay.max / 1e6).toBeLessThan(took / 4)
  })

  it('keeps the Postgres error fields the store reads', async () => {
    const driver = shared
    const t = await freshTable()
    await driver.query(`INSERT INTO ${t} (id) VALUES (1)`)
    const err = await driver.query(`INSERT INTO ${t} (id) VALUES (1)`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({
      code: '23505',
      constraint: `${t}_pkey`,
      table: t,
      message: expect.stringContaining('duplicate key'),
    })
    expect(classifyStoreError(err)).toBe('permanent')
  })

  it('commits a transaction whose function returns, and rolls back and rethrows when it throws', async () => {
    const driver = shared
    const t = await freshTable()
    const value = await driver.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${t} (id) VALUES (1)`)
      return (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n
    })
    expect(value).toBe(1)

    const mine = new Error('changed my mind')
    await expect(
      driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${t} (id) VALUES (2)`)
        throw mine
      }),
    ).rejects.toBe(mine)
    // A failed statement inside rolls back the statements before it; its code reaches the caller.
    await expect(
      driver.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${t} (id) VALUES (3)`)
        await tx.query(`INSERT INTO ${t} (id) VALUES (1)`)
      }),
    ).rejects.toMatchObject({ code: '23505' })
    const { rows } = await driver.query<{ id: number }>(`SELECT id FROM ${t} ORDER BY id`)
    expect(rows).toEqual([{ id: 1 }])
  })

  it('sets the isolation level asked for', async () => {
    const level = await shared.transaction(
      async (tx) =>
        (await tx.query<{ l: string }>('SELECT current_setting($1) AS l', ['transaction_isolation'])).rows[0]!
          .l,
      { isolation: 'serializable' },
    )
    expect(level).toBe('serializable')
  })

  it('round-trips bytea: a Buffer goes in, the same bytes come out', async () => {
    const driver = shared
    const t = await freshTable()
    const bytes = Buffer.from([0, 1, 2, 250, 255])
    await driver.query(`INSERT INTO ${t} (id, body) VALUES (1, $1)`, [bytes])
    const { rows } = await driver.query<{ body: Uint8Array }>(`SELECT body FROM ${t}`)
    expect(Buffer.from(rows[0]!.body).equals(bytes)).toBe(true)
  })

  it('fails pending and later requests with a retryable error when the worker dies, and still releases the lock', async () => {
    const dir = tempDir()
    const driver = await openPgliteDriver(dir)
    const heavy = driver.query(HEAVY).catch((e: unknown) => e)
    await driver.worker.terminate()
    const err = await heavy
    expect(err).toMatchObject({
      code: '08006',
      message: expect.stringMatching(/embedded database worker exited/),
    })
    expect(classifyStoreError(err)).toBe('retryable')
    await expect(driver.query('SELECT 1')).rejects.toMatchObject({ code: '08006' })
    await expect(driver.transaction(async () => 1)).rejects.toMatchObject({ code: '08006' })

    await driver.close()
    acquireDataDirLock(dir).release()
  })

  it('rejects the open when PGlite cannot start, and leaves the directory unlocked', async () => {
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, 'pgdata'), 'not a directory')
    await expect(openPgliteDriver(dir)).rejects.toThrow(/cannot open the embedded database in/)
    acquireDataDirLock(dir).release()
  })
})
