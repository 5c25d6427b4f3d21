/**
 * Migration runner: applies migrations/NNNN_name.sql in order, one transaction per file, under a
 * Postgres advisory lock so replicas starting together apply each file exactly once.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Driver, SqlSession } from './driver.js'

/** Arbitrary constant shared by every sessiontap process: the advisory lock key for migrations. */
const MIGRATION_LOCK_KEY = 7_452_019_381

export interface MigrationFile {
  name: string
  sql: string
  checksum: string
}

export class MigrationChecksumError extends Error {
  constructor(readonly migration: string) {
    super(
      `migration ${migration} was already applied but its file has changed since; ` +
        'never edit an applied migration, add a new one instead',
    )
    this.name = 'MigrationChecksumError'
  }
}

/** The package root (the folder with package.json): the same from src/ under tsx and from dist/src/. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir)
      throw new Error('cannot find the sessiontap package root (no package.json above the store)')
    dir = parent
  }
  return dir
}

export function defaultMigrationsDir(): string {
  return path.join(packageRoot(), 'migrations')
}

export function loadMigrations(dir: string = defaultMigrationsDir()): MigrationFile[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = fs.readFileSync(path.join(dir, file), 'utf8')
      return { name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    })
}

async function lockedAppliedChecksums(tx: SqlSession): Promise<Map<string, string>> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
  await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`)
  const { rows } = await tx.query<{ name: string; checksum: string }>(
    'SELECT name, checksum FROM schema_migrations',
  )
  return new Map(rows.map((row) => [row.name, row.checksum]))
}

/**
 * Applies the pending migrations. Refuses (MigrationChecksumError) when an applied file has changed.
 * Returns the names applied by this call, so a runner that lost the race returns [].
 */
export async function runMigrations(driver: Driver, dir?: string): Promise<{ applied: string[] }> {
  const migrations = loadMigrations(dir)
  const applied: string[] = []
  for (const migration of migrations) {
    // Each file is checked and applied while holding the lock, inside its own transaction.
    const didApply = await driver.transaction(async (tx) => {
      const done = await lockedAppliedChecksums(tx)
      for (const earlier of migrations) {
        const checksum = done.get(earlier.name)
        if (checksum !== undefined && checksum !== earlier.checksum)
          throw new MigrationChecksumError(earlier.name)
      }
      if (done.has(migration.name)) return false
      await tx.exec(migration.sql)
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
        migration.name,
        migration.checksum,
      ])
      return true
    })
    if (didApply) applied.push(migration.name)
  }
  return { applied }
}
