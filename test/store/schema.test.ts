/**
 * store/schema.ts names every column the migrations create, table by table and in order, and the
 * transfer document carries exactly those columns: a migration that adds a column without adding it
 * here (or to the transfer schema) fails this test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  NODES_COLUMNS,
  SESSIONS_COLUMNS,
  SUBAGENT_SPAWNS_COLUMNS,
  TURN_BODIES_COLUMNS,
  TURNS_COLUMNS,
} from '../../src/store/schema.js'
import { DOCUMENT_COLUMNS } from '../../src/store/session-transfer.js'
import { openStore, type Store } from '../../src/store/store.js'
import { bodiesRowSchema, nodeRowSchema, sessionRowSchema, turnRowSchema } from '../../src/transfer/format.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'

let pg: TestPostgres
let store: Store

beforeAll(async () => {
  pg = await startTestPostgres()
  store = await openStore({ databaseUrl: pg.url, dataDir: 'unused', poolSize: 1 })
})
afterAll(async () => {
  await store?.close()
  await pg?.stop()
})

async function columnsOf(table: string): Promise<string[]> {
  const { rows } = await store.driver.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  )
  return rows.map((r) => r.column_name)
}

describe('the column lists', () => {
  it.each([
    ['sessions', SESSIONS_COLUMNS],
    ['turns', TURNS_COLUMNS],
    ['nodes', NODES_COLUMNS],
    ['turn_bodies', TURN_BODIES_COLUMNS],
    ['subagent_spawns', SUBAGENT_SPAWNS_COLUMNS],
  ])('%s: as the migrations create it', async (table, columns) => {
    expect(await columnsOf(table)).toEqual([...columns])
  })

  it('are what a transfer document carries', () => {
    const keys = (schema: { shape: object }) => Object.keys(schema.shape).sort()
    expect(keys(sessionRowSchema)).toEqual([...DOCUMENT_COLUMNS.sessions].sort())
    expect(keys(turnRowSchema)).toEqual([...DOCUMENT_COLUMNS.turns].sort())
    expect(keys(nodeRowSchema)).toEqual([...DOCUMENT_COLUMNS.nodes].sort())
    expect(keys(bodiesRowSchema)).toEqual(TURN_BODIES_COLUMNS.filter((c) => c !== 'org_id').sort())
  })
})
