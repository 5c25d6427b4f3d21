/**
 * Export → import on real Postgres: into an empty database the session comes back exactly (every
 * column of its sessions, turns and nodes rows); a second import changes nothing; a tampered or
 * unknown-version file is refused before anything is written; parents are linked or left NULL.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/index.js'
import { openStore } from '../../src/store/store.js'
import { exportSession } from '../../src/transfer/export.js'
import { createDocument, parseDocument, serializeDocument, TransferError } from '../../src/transfer/format.js'
import { importSession } from '../../src/transfer/import.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { at, chain, makeTurn, rawBodies } from '../store/turn-factory.js'

const ORG = randomUUID()
let databases: TestPostgres[] = []
let source: Store

async function emptyStore(): Promise<Store> {
  const pg = await startTestPostgres()
  databases.push(pg)
  return openStore({ databaseUrl: pg.url, dataDir: 'unused', poolSize: 2 })
}

/** Every row of the org, as Postgres stores it (to_jsonb keeps microseconds and exact numerics). */
async function snapshot(store: Store, orgId = ORG) {
  const table = async (sql: string) =>
    (await store.driver.query<{ row: unknown }>(sql, [orgId])).rows.map((r) => r.row)
  return {
    sessions: await table('SELECT to_jsonb(s) AS row FROM sessions s WHERE org_id = $1 ORDER BY id'),
    turns: await table('SELECT to_jsonb(t) AS row FROM turns t WHERE org_id = $1 ORDER BY id'),
    nodes: await table('SELECT to_jsonb(n) AS row FROM nodes n WHERE org_id = $1 ORDER BY hash'),
    bodies: await table('SELECT to_jsonb(b) AS row FROM turn_bodies b WHERE org_id = $1 ORDER BY turn_id'),
  }
}

/** A session of three turns on one growing conversation, one an error, one with provider timing, each with a cost in 10 decimals. */
async function recordSession(store: Store, harnessSessionId: string, parent: string | null = null) {
  const texts = ['fix the bug', 'reading a.txt', 'here it is', 'done', 'thanks', 'bye']
  let sessionId = ''
  for (let i = 0; i < 3; i++) {
    const nodes = chain([`${harnessSessionId}:${texts[0]}`, ...texts.slice(1, 2 * i + 2)])
    const result = await store.ingest(
      makeTurn({
        envelope: {
          orgId: ORG,
          harnessSessionId,
          parent: parent ? { harnessId: 'claude-code', harnessSessionId: parent } : null,
          harnessMetadata: { team: 'core', n: i },
        },
        startedAt: at(i),
        nodes,
        costUsd: 0.0123456789,
        loopHash: `h${i % 2}`,
        // Raw bodies on two turns of three: the one without shows they travel per turn.
        rawBodies:
          i === 1 ? null : rawBodies(`{"turn":${i},"text":"${'é'.repeat(i * 700)}"}`, `data: {"i":${i}}\n\n`),
        ...(i === 1 ? { statusCode: 500, errorType: 'api_error', errorMessage: 'boom' } : {}),
        ...(i === 2 ? { providerTiming: { totalNs: 4883583458, evalNs: 4535599000 } } : {}),
      }),
    )
    sessionId = result.sessionId
  }
  return sessionId
}

beforeAll(async () => {
  source = await emptyStore()
})
afterAll(async () => {
  await source.close()
  for (const pg of databases) await pg.stop()
  databases = []
})

describe('session export and import', () => {
  it('reproduces the session exactly in an empty database, and a second import changes nothing', async () => {
    const sessionId = await recordSession(source, 'solo')
    const document = await exportSession(source.driver, ORG, sessionId)
    expect(document).not.toBeNull()
    expect(document!.payload.turns.map((t) => t.turn_index)).toEqual([0, 1, 2])
    expect(document!.payload.turns.map((t) => t.provider_timing)).toEqual([
      null,
      null,
      { totalNs: 4883583458, evalNs: 4535599000 },
    ])
    const file = serializeDocument(document!)

    const target = await emptyStore()
    try {
      const result = await importSession(target.driver, parseDocument(file))
      expect(result).toEqual({
        status: 'imported',
        orgId: ORG,
        sessionId,
        turnsInserted: 3,
        nodesInserted: document!.payload.nodes.length,
        bodiesInserted: 2,
        parent: 'none',
      })
      const imported = await snapshot(target)
      expect(imported).toEqual(await snapshot(source))
      expect(imported.sessions).toHaveLength(1)
      expect(imported.bodies).toHaveLength(2)

      const again = await importSession(target.driver, parseDocument(file))
      expect(again).toMatchObject({ status: 'already_present', turnsInserted: 0, nodesInserted: 0 })
      expect(await snapshot(target)).toEqual(imported)
      // The imported copy exports to the same payload: nothing was lost on the way.
      const reexported = await exportSession(target.driver, ORG, sessionId)
      expect({ ...reexported!.payload, exported_at: '' }).toEqual({ ...document!.payload, exported_at: '' })
    } finally {
      await target.close()
    }
  })

  it('imports a file written before raw bodies travelled, and refuses bodies for a turn the file lacks', async () => {
    const sessionId = await recordSession(source, 'bodies')
    const { payload } = (await exportSession(source.driver, ORG, sessionId))!
    const { bodies, ...older } = payload
    expect(bodies).toHaveLength(2)
    const stray = createDocument({ ...payload, bodies: [{ ...bodies![0]!, turn_id: randomUUID() }] })
    const target = await emptyStore()
    try {
      await expect(importSession(target.driver, parseDocument(serializeDocument(stray)))).rejects.toThrow(
        /raw bodies for turn .* which the file does not hold/,
      )
      expect((await snapshot(target)).sessions).toEqual([])
      const result = await importSession(
        target.driver,
        parseDocument(serializeDocument(createDocument(older))),
      )
      expect(result).toMatchObject({ status: 'imported', turnsInserted: 3, bodiesInserted: 0 })
    } finally {
      await target.close()
    }
  })

  it('refuses a changed byte, a changed version and a foreign file with a clear message', async () => {
    const sessionId = await recordSession(source, 'tamper')
    const file = serializeDocument((await exportSession(source.driver, ORG, sessionId))!)
    const changedByte = file.replace('"api_error"', '"api_errox"')
    expect(changedByte).not.toBe(file)
    expect(() => parseDocument(changedByte)).toThrow(/checksum mismatch: the file was changed or damaged/)
    expect(() => parseDocument(file.replace('"version": 1', '"version": 2'))).toThrow(
      /unsupported export version 2: this sessiontap reads version 1/,
    )
    expect(() => parseDocument('{"hello": 1}')).toThrow(/not a sessiontap session export/)
    expect(() => parseDocument(file.slice(0, 100))).toThrow(TransferError)
  })

  it('links the parent when the target has it, and stores NULL when it does not', async () => {
    const parentId = await recordSession(source, 'parent')
    const childId = await recordSession(source, 'child', 'parent')
    const parentFile = serializeDocument((await exportSession(source.driver, ORG, parentId))!)
    const childFile = serializeDocument((await exportSession(source.driver, ORG, childId))!)

    const orphanTarget = await emptyStore()
    try {
      const orphan = await importSession(orphanTarget.driver, parseDocument(childFile))
      expect(orphan).toMatchObject({ status: 'imported', parent: 'missing' })
      const { rows } = await orphanTarget.driver.query<{ parent_session_id: string | null }>(
        'SELECT parent_session_id FROM sessions WHERE org_id = $1 AND id = $2',
        [ORG, childId],
      )
      expect(rows).toEqual([{ parent_session_id: null }])
    } finally {
      await orphanTarget.close()
    }

    const target = await emptyStore()
    try {
      await importSession(target.driver, parseDocument(parentFile))
      expect(await importSession(target.driver, parseDocument(childFile))).toMatchObject({ parent: 'linked' })
      expect(await snapshot(target)).toEqual(await snapshotOf(source, [parentId, childId]))
    } finally {
      await target.close()
    }
  })

  it('refuses a session whose harness key the org already holds under another id, changing nothing', async () => {
    const sessionId = await recordSession(source, 'clash')
    const file = serializeDocument((await exportSession(source.driver, ORG, sessionId))!)
    const target = await emptyStore()
    try {
      await recordSession(target, 'clash')
      const before = await snapshot(target)
      await expect(importSession(target.driver, parseDocument(file))).rejects.toThrow(
        /already has claude-code\/clash as session .* delete it first/,
      )
      expect(await snapshot(target)).toEqual(before)
    } finally {
      await target.close()
    }
  })

  it('fills a placeholder that a child created before its parent arrived, keeping its local id', async () => {
    const parentId = await recordSession(source, 'late-parent')
    const file = serializeDocument((await exportSession(source.driver, ORG, parentId))!)
    const target = await emptyStore()
    try {
      const childId = await recordSession(target, 'early-child', 'late-parent')
      const { rows } = await target.driver.query<{ parent_session_id: string }>(
        'SELECT parent_session_id FROM sessions WHERE org_id = $1 AND id = $2',
        [ORG, childId],
      )
      const placeholderId = rows[0]!.parent_session_id
      const result = await importSession(target.driver, parseDocument(file))
      expect(result).toMatchObject({
        status: 'filled_placeholder',
        sessionId: placeholderId,
        turnsInserted: 3,
      })
      const filled = await target.driver.query<{ is_placeholder: boolean; turn_count: number; name: string }>(
        'SELECT is_placeholder, turn_count, name FROM sessions WHERE org_id = $1 AND id = $2',
        [ORG, placeholderId],
      )
      expect(filled.rows).toEqual([{ is_placeholder: false, turn_count: 3, name: 'fix the bug' }])
    } finally {
      await target.close()
    }
  })

  it('returns null for a session of another org', async () => {
    const sessionId = await recordSession(source, 'private')
    expect(await exportSession(source.driver, randomUUID(), sessionId)).toBeNull()
  })
})

/** The rows of the given sessions only (the source database holds other tests' sessions too). */
async function snapshotOf(store: Store, sessionIds: string[]) {
  const all = await snapshot(store)
  const keep = new Set(sessionIds)
  const ids = (row: unknown, key: string) => keep.has((row as Record<string, string>)[key]!)
  const turns = all.turns.filter((row) => ids(row, 'session_id'))
  const turnIds = new Set(turns.map((row) => (row as { id: string }).id))
  return {
    sessions: all.sessions.filter((row) => ids(row, 'id')),
    turns,
    nodes: all.nodes.filter((row) => ids(row, 'session_id')),
    bodies: all.bodies.filter((row) => turnIds.has((row as { turn_id: string }).turn_id)),
  }
}
