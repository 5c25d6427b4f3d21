import http from 'node:http'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterForMode } from '../../src/cli/replay.js'
import type { RunningSidecar } from '../../src/cli/serve.js'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import { type EmulatedEnvoy, startEmulatedEnvoy } from '../../src/emulator/http-front.js'
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/server.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { startTestSidecar } from './sidecar.js'

const CASES_DIR = path.resolve(import.meta.dirname, '../fixtures/cases')

/** A plain HTTP request whose response body is kept as raw bytes (no decompression). */
function send(url: string, method: string, headers: Record<string, string>, body: Buffer) {
  return new Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }>(
    (resolve, reject) => {
      const req = http.request(url, { method, headers }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        )
      })
      req.on('error', reject)
      req.end(body)
    },
  )
}

describe('HTTP in, committed turn out: emulated Envoy + mock upstream + sessiontap + Postgres, no Docker', () => {
  let db: TestPostgres
  let sidecar: RunningSidecar
  let upstream: MockUpstream
  const envoys: EmulatedEnvoy[] = []
  const cases = loadExchangeCases([CASES_DIR])

  beforeAll(async () => {
    db = await startTestPostgres()
    sidecar = await startTestSidecar(db.url)
    upstream = await startMockUpstream({ casesDir: CASES_DIR, pacingMs: 1 })
  })
  afterAll(async () => {
    for (const e of envoys) await e.close()
    await upstream?.close()
    await sidecar?.stop('test')
    await db?.stop()
  })

  for (const mode of ['observability', 'streamed', 'buffered'] as const) {
    it(`${mode} mode: the client gets the upstream bytes unchanged and every call becomes a turn`, async () => {
      const envoy = await startEmulatedEnvoy({
        extprocAddress: sidecar.grpcAddress,
        upstreamUrl: upstream.url,
        filter: { ...filterForMode(mode), messageTimeoutMs: 5000, deferredCloseMs: 2000 },
      })
      envoys.push(envoy)
      const sessionId = `http-path-${mode}`
      for (const c of cases) {
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'x-mock-case': c.name,
          'x-tapes-harness-id': 'e2e',
          'x-tapes-harness-session-id': sessionId,
        }
        const res = await send(
          `${envoy.url}${c.spec.request.path}`,
          c.spec.request.method,
          headers,
          c.spec.request.body,
        )
        expect(res.status).toBe(c.spec.response.status)
        expect(res.body.equals(c.spec.response.body), `${c.name}: bytes unchanged`).toBe(true)
      }
      expect(envoy.exchanges.flatMap((e) => e.violations)).toEqual([])
      const client = new pg.Client(db.url)
      await client.connect()
      try {
        let rows: Array<{ n: number }> = []
        for (let i = 0; i < 100; i++) {
          ;({ rows } = await client.query(
            `SELECT count(*)::int AS n FROM turns t JOIN sessions s ON s.id = t.session_id WHERE s.harness_session_id = $1`,
            [sessionId],
          ))
          if (rows[0]?.n === cases.length) break
          await new Promise((r) => setTimeout(r, 50))
        }
        expect(rows[0]?.n).toBe(cases.length)
      } finally {
        await client.end()
      }
    })
  }
})
