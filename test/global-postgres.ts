/**
 * vitest global setup: one Postgres server for the whole run, shared by every worker and file; each
 * suite still gets a fresh database of its own (test/helpers/postgres.ts). When no server can start,
 * the reason is printed once and handed to the workers, so Postgres suites fail at once with it while
 * every other file still runs.
 */
import type { TestProject } from 'vitest/node'
import { type Server, startOwnServer } from './helpers/postgres.js'

export default async function setup(project: TestProject) {
  if (process.env.TEST_DATABASE_URL) return
  let server: Server | null = null
  try {
    server = await startOwnServer()
    project.provide('testPostgres', { url: server.urlFor('postgres'), source: server.source })
  } catch (err) {
    const error = `test Postgres unavailable: ${(err as Error).message}`
    console.error(error)
    project.provide('testPostgres', { error })
  }
  return async () => {
    await server?.stop()
  }
}
