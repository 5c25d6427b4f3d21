/**
 * store.ingest reruns its whole transaction on serialization failure and deadlock, a bounded
 * number of times, and never reruns on other errors. The failures are injected in front of a real
 * Postgres transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Driver } from '../../src/store/driver.js'
import { runMigrations } from '../../src/store/migrate.js'
import { openPgDriver } from '../../src/store/pg-driver.js'
import { createStore } from '../../src/store/store.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { makeTurn } from './turn-factory.js'

/** A driver whose first `failures` transactions fail with SQLSTATE `code` after doing their work. */
function failing(driver: Driver, code: string, failures: number): Driver & { attempts: number } {
  const wrapped = {
    ...driver,
    attempts: 0,
    transaction: <T>(fn: Parameters<Driver['transaction']>[0]) =>
      driver.transaction(async (tx) => {
        wrapped.attempts++
        const result = (await fn(tx)) as T
        if (wrapped.attempts <= failures) throw Object.assign(new Error(`injected ${code}`), { code })
        return result
      }),
  }
  return wrapped
}

describe('ingest transaction retry (Postgres)', () => {
  let pg: TestPostgres
  let driver: Driver

  beforeAll(async () => {
    pg = await startTestPostgres()
    driver = openPgDriver({ url: pg.url })
    await runMigrations(driver)
  })
  afterAll(async () => {
    await driver?.close()
    await pg?.stop()
  })

  it.each(['40001', '40P01'])('reruns the transaction after %s and commits once', async (code) => {
    const flaky = failing(driver, code, 2)
    const turn = makeTurn()
    const result = await createStore(flaky).ingest(turn)
    expect(result).toMatchObject({ inserted: true, turnIndex: 0 })
    expect(flaky.attempts).toBe(3)
    const { rows } = await driver.query<{ turn_count: number }>(
      'SELECT turn_count FROM sessions WHERE org_id = $1',
      [turn.envelope.orgId],
    )
    expect(rows).toEqual([{ turn_count: 1 }])
  })

  it('gives up after maxTransactionAttempts and leaves nothing behind', async () => {
    const flaky = failing(driver, '40001', Number.POSITIVE_INFINITY)
    const turn = makeTurn()
    await expect(createStore(flaky, { maxTransactionAttempts: 3 }).ingest(turn)).rejects.toMatchObject({
      code: '40001',
    })
    expect(flaky.attempts).toBe(3)
    const { rows } = await driver.query('SELECT 1 FROM sessions WHERE org_id = $1', [turn.envelope.orgId])
    expect(rows).toHaveLength(0)
  })

  it('does not rerun on other errors', async () => {
    const flaky = failing(driver, '23505', 1)
    await expect(createStore(flaky).ingest(makeTurn())).rejects.toMatchObject({ code: '23505' })
    expect(flaky.attempts).toBe(1)
  })
})
