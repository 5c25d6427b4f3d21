/**
 * classifyStoreError on real failures (a refused connection, a constraint violation, a
 * terminated backend) and on the SQLSTATE table.
 */
import { randomUUID } from 'node:crypto'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { classifyStoreError } from '../../src/store/errors.js'
import { openPgDriver } from '../../src/store/pg-driver.js'
import { openStore, type Store } from '../../src/store/store.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { makeTurn } from './turn-factory.js'

async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a failure')
}

describe('classifyStoreError', () => {
  let pg: TestPostgres
  let store: Store

  beforeAll(async () => {
    pg = await startTestPostgres()
    store = await openStore({ databaseUrl: pg.url, dataDir: 'unused' })
  })
  afterAll(async () => {
    await store?.close()
    await pg?.stop()
  })

  it('retries when the server refuses connections', async () => {
    const driver = openPgDriver({ url: `postgres://postgres:x@127.0.0.1:${await closedPort()}/db` })
    const err = await failureOf(driver.query('SELECT 1'))
    await driver.close()
    expect(classifyStoreError(err)).toBe('retryable')
  })

  it('retries when the backend is terminated mid-transaction', async () => {
    const err = await failureOf(
      store.driver.transaction(async (tx) => {
        await tx.query('SELECT pg_terminate_backend(pg_backend_pid())')
      }),
    )
    expect(classifyStoreError(err)).toBe('retryable')
  })

  it('gives up on data the database rejects', async () => {
    const badOrg = await failureOf(store.ingest(makeTurn({ envelope: { orgId: 'not-a-uuid' } })))
    expect((badOrg as { code?: string }).code).toBe('22P02')
    expect(classifyStoreError(badOrg)).toBe('permanent')
    const orgId = randomUUID()
    const duplicate = await failureOf(
      store.driver.query(
        `INSERT INTO sessions (id, org_id, harness_id, harness_session_id, started_at, last_seen_at)
         VALUES ($1, $2, 'h', 's', now(), now()), ($3, $2, 'h', 's', now(), now())`,
        [randomUUID(), orgId, randomUUID()],
      ),
    )
    expect(classifyStoreError(duplicate)).toBe('permanent')
  })

  it.each([
    ['40001', 'retryable'],
    ['40P01', 'retryable'],
    ['57P01', 'retryable'],
    ['57P02', 'retryable'],
    ['57P03', 'retryable'],
    ['08006', 'retryable'],
    ['53300', 'retryable'],
    ['23505', 'permanent'],
    ['22P05', 'permanent'],
    ['42P01', 'permanent'],
    ['ECONNRESET', 'retryable'],
  ])('code %s is %s', (code, expected) => {
    expect(classifyStoreError(Object.assign(new Error('x'), { code }))).toBe(expected)
  })

  it('reads the causes of an AggregateError and node-postgres connection messages', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(classifyStoreError(new AggregateError([refused]))).toBe('retryable')
    expect(classifyStoreError(new Error('Connection terminated unexpectedly'))).toBe('retryable')
    expect(classifyStoreError(new TypeError('undefined is not a function'))).toBe('permanent')
  })
})
