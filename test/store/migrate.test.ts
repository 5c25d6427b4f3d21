/**
 * The migration runner on real Postgres: concurrent runners apply each file once, an edited
 * applied file is refused, and the default folder resolves from the source tree.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Driver } from '../../src/store/driver.js'
import { defaultMigrationsDir, MigrationChecksumError, runMigrations } from '../../src/store/migrate.js'
import { openPgDriver } from '../../src/store/pg-driver.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'

const tempDirs: string[] = []
function migrationsDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-migrations-'))
  tempDirs.push(dir)
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql)
  return dir
}

// Neither file can run twice: CREATE TABLE without IF NOT EXISTS, and an insert we count.
const FILES = {
  '0001_one.sql': 'CREATE TABLE runs (n int); INSERT INTO runs VALUES (1);',
  '0002_two.sql': 'CREATE TABLE other (id int PRIMARY KEY); INSERT INTO runs VALUES (2);',
  'README.md': 'not a migration',
}

describe('runMigrations (Postgres)', () => {
  let pg: TestPostgres
  const drivers: Driver[] = []
  const driver = (): Driver => {
    const opened = openPgDriver({ url: pg.url, poolSize: 2 })
    drivers.push(opened)
    return opened
  }

  beforeAll(async () => {
    pg = await startTestPostgres()
  })
  afterEach(async () => {
    await driver().exec('DROP TABLE IF EXISTS runs, other, schema_migrations')
    await Promise.all(drivers.splice(0).map((d) => d.close()))
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
  })
  afterAll(async () => {
    await pg?.stop()
  })

  it('applies each file exactly once when runners start together', async () => {
    const dir = migrationsDir(FILES)
    const results = await Promise.all(Array.from({ length: 4 }, () => runMigrations(driver(), dir)))
    expect(results.flatMap((r) => r.applied).sort()).toEqual(['0001_one.sql', '0002_two.sql'])
    const { rows } = await driver().query<{ n: number }>('SELECT n FROM runs ORDER BY n')
    expect(rows).toEqual([{ n: 1 }, { n: 2 }])
    const { rows: recorded } = await driver().query<{ name: string; checksum: string }>(
      'SELECT name, checksum FROM schema_migrations ORDER BY name',
    )
    expect(recorded.map((r) => r.name)).toEqual(['0001_one.sql', '0002_two.sql'])
    expect(recorded[0]!.checksum).toMatch(/^[0-9a-f]{64}$/)
    expect(await runMigrations(driver(), dir)).toEqual({ applied: [] })
  })

  it('refuses to run when an applied file has changed', async () => {
    const dir = migrationsDir({ '0001_one.sql': FILES['0001_one.sql'] })
    await runMigrations(driver(), dir)
    fs.writeFileSync(path.join(dir, '0001_one.sql'), `${FILES['0001_one.sql']} -- edited`)
    fs.writeFileSync(path.join(dir, '0002_two.sql'), FILES['0002_two.sql'])
    await expect(runMigrations(driver(), dir)).rejects.toThrow(MigrationChecksumError)
    const { rows } = await driver().query("SELECT 1 FROM pg_tables WHERE tablename = 'other'")
    expect(rows).toHaveLength(0)
  })

  it('rolls back a failing file and records nothing for it', async () => {
    const dir = migrationsDir({
      '0001_one.sql': FILES['0001_one.sql'],
      '0002_bad.sql': 'CREATE TABLE x (); SELEC 1;',
    })
    await expect(runMigrations(driver(), dir)).rejects.toThrow(/syntax error/)
    const { rows } = await driver().query<{ name: string }>('SELECT name FROM schema_migrations')
    expect(rows).toEqual([{ name: '0001_one.sql' }])
    const { rows: x } = await driver().query("SELECT 1 FROM pg_tables WHERE tablename = 'x'")
    expect(x).toHaveLength(0)
    await driver().exec('DROP TABLE IF EXISTS x')
  })

  it('finds the shipped migrations from the package root', () => {
    expect(fs.readdirSync(defaultMigrationsDir())).toContain('0001_init.sql')
  })
})
