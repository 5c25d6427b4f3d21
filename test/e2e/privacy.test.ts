import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/run.js'
import type { RunningSidecar } from '../../src/cli/serve.js'
import { createLogger } from '../../src/log.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { startTestSidecar } from './sidecar.js'

const CASES_DIR = path.resolve(import.meta.dirname, '../fixtures/cases')

describe('SESSIONTAP_STORE_CONTENT=false: hashes, usage and metadata only', () => {
  let db: TestPostgres
  let sidecar: RunningSidecar
  beforeAll(async () => {
    db = await startTestPostgres()
    sidecar = await startTestSidecar(db.url, { SESSIONTAP_STORE_CONTENT: 'false' })
    const code = await run(
      [
        'replay',
        CASES_DIR,
        '--target',
        sidecar.grpcAddress,
        '--admin-address',
        sidecar.httpAddress,
        '--message-timeout-ms',
        '5000',
      ],
      {},
      () => {},
    )
    expect(code).toBe(0)
    await sidecar.stop('test')
  })
  afterAll(() => db?.stop())

  it('commits every turn with its node chain, and no message content anywhere', async () => {
    const client = new pg.Client(db.url)
    await client.connect()
    try {
      const turns = await client.query(
        'SELECT count(*)::int AS n, count(request_leaf_hash)::int AS hashed FROM turns',
      )
      expect(turns.rows[0]).toEqual({ n: 4, hashed: 4 })
      const nodes = await client.query(
        'SELECT count(*)::int AS n, count(content)::int AS with_content FROM nodes',
      )
      expect(nodes.rows[0].n).toBeGreaterThan(4)
      expect(nodes.rows[0].with_content).toBe(0)
      // Raw bodies are content too (stored by default: test/store/raw-bodies.contract.ts).
      const raw = await client.query('SELECT count(*)::int AS n FROM turn_bodies')
      expect(raw.rows[0].n).toBe(0)
      const usage = await client.query('SELECT count(*)::int AS n FROM turns WHERE output_tokens IS NOT NULL')
      expect(usage.rows[0].n).toBeGreaterThan(0)
    } finally {
      await client.end()
    }
  })
})

describe('a renamed trusted identity header', () => {
  it('makes the sidecar warn at start that Envoy must strip client-sent copies of it', async () => {
    const db = await startTestPostgres()
    const lines: string[] = []
    try {
      const sidecar = await startTestSidecar(
        db.url,
        { SESSIONTAP_ORG_HEADER: 'x-my-gateway-org' },
        createLogger('info', (line) => lines.push(line)),
      )
      await sidecar.stop('test')
    } finally {
      await db.stop()
    }
    const warnings = lines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.msg.startsWith('trusted identity'))
    expect(warnings).toEqual([
      expect.objectContaining({ option: 'SESSIONTAP_ORG_HEADER', header: 'x-my-gateway-org' }),
    ])
  })
})
