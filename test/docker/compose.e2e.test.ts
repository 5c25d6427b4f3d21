/**
 * End to end over docker-compose.yml: real HTTP calls through the real Envoy (envoy.compose.yaml) to
 * the mock upstream, with sessiontap recording them into Postgres. Skipped where no Docker runs.
 */
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { DockerComposeEnvironment, type StartedDockerComposeEnvironment, Wait } from 'testcontainers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRequest } from '../mock-upstream/raw-http.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const FIXTURES = path.join(ROOT, 'test/fixtures/cases')
const TURN_WAIT_MS = 60_000

/** Cheap checks first: a socket (or DOCKER_HOST), a daemon that answers, the compose plugin. */
function dockerUnavailableReason(): string | undefined {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) {
    return 'no /var/run/docker.sock and DOCKER_HOST is unset'
  }
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 })
  if (info.status !== 0) return '`docker info` did not answer (no daemon, or no docker CLI)'
  const compose = spawnSync('docker', ['compose', 'version'], { timeout: 10_000 })
  if (compose.status !== 0) return '`docker compose` is not installed'
  return undefined
}

const unavailable = dockerUnavailableReason()
// CI sets this where Docker must exist, so a broken runner fails instead of skipping silently.
if (unavailable && process.env.SESSIONTAP_E2E_REQUIRE_DOCKER === '1') {
  throw new Error(`compose e2e required, but ${unavailable}`)
}
if (unavailable) console.log(`compose e2e skipped: ${unavailable}`)

/** Free loopback ports for the stack's published ports, so parallel runs and local services don't clash. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

interface Call {
  readonly fixture: string
  /** Through the provider's own path or the /openai/, /anthropic/ prefixes. */
  readonly path: string
  readonly provider: string
  readonly api: string
  readonly streaming: boolean
}

const CALLS: readonly Call[] = [
  {
    fixture: 'openai-chat-stream-usage',
    path: '/v1/chat/completions',
    provider: 'openai',
    api: 'openai.chat',
    streaming: true,
  },
  {
    fixture: 'openai-chat-nonstream',
    path: '/openai/v1/chat/completions',
    provider: 'openai',
    api: 'openai.chat',
    streaming: false,
  },
  {
    fixture: 'anthropic-messages-stream',
    path: '/v1/messages',
    provider: 'anthropic',
    api: 'anthropic.messages',
    streaming: true,
  },
  {
    fixture: 'anthropic-messages-nonstream-gzip',
    path: '/anthropic/v1/messages',
    provider: 'anthropic',
    api: 'anthropic.messages',
    streaming: false,
  },
]

describe.skipIf(unavailable !== undefined)(
  'compose stack: client → Envoy → mock upstream, turns → Postgres',
  () => {
    let stack: StartedDockerComposeEnvironment | undefined
    let db: pg.Client | undefined
    let envoyUrl = ''
    const sessionId = randomUUID()
    const requestIds = new Map<string, string>()

    beforeAll(async () => {
      const [envoyPort, postgresPort, httpPort] = [await freePort(), await freePort(), await freePort()]
      stack = await new DockerComposeEnvironment(ROOT, 'docker-compose.yml')
        .withProjectName(`sessiontap-e2e-${process.pid}`)
        .withBuild()
        .withEnvironment({
          SESSIONTAP_ENVOY_PORT: String(envoyPort),
          SESSIONTAP_POSTGRES_PORT: String(postgresPort),
          SESSIONTAP_HTTP_PORT: String(httpPort),
        })
        .withWaitStrategy('postgres-1', Wait.forHealthCheck())
        .withWaitStrategy('sessiontap-1', Wait.forHealthCheck())
        .withWaitStrategy('mock-upstream-1', Wait.forHealthCheck())
        .withWaitStrategy('envoy-1', Wait.forHttp('/healthz', 10000))
        .withStartupTimeout(300_000)
        .up()
      envoyUrl = `http://127.0.0.1:${envoyPort}`
      db = new pg.Client({
        connectionString: `postgres://sessiontap:sessiontap@127.0.0.1:${postgresPort}/sessiontap`,
      })
      await db.connect()
    }, 15 * 60_000)

    afterAll(async () => {
      await db?.end()
      await stack?.down({ removeVolumes: true })
    }, 120_000)

    it.each(CALLS)('$fixture via $path reaches the client byte for byte', async (call) => {
      const folder = path.join(FIXTURES, call.fixture)
      const requestId = `e2e-${randomUUID()}`
      requestIds.set(call.fixture, requestId)
      const response = await rawRequest(`${envoyUrl}${call.path}`, {
        headers: {
          'content-type': 'application/json',
          'x-request-id': requestId,
          'x-tapes-harness-id': 'e2e',
          'x-tapes-harness-session-id': sessionId,
          authorization: 'Bearer not-a-real-key',
        },
        body: readFileSync(path.join(folder, 'request.json')),
      })
      const recorded = JSON.parse(readFileSync(path.join(folder, 'response.headers.json'), 'utf8'))
      expect(response.status).toBe(recorded.status)
      // The mock chose the case by the body's SHA-256: the request body also crossed Envoy unchanged.
      expect(response.headers['x-mock-case']).toBe(call.fixture)
      expect(response.headers['x-request-id']).toBe(requestId)
      expect(response.headers['content-encoding']).toBe(recorded.content_encoding ?? undefined)
      expect(response.body.equals(readFileSync(path.join(folder, 'response.body')))).toBe(true)
    })

    it('commits one turn per call to Postgres, all in the launcher-named session', async () => {
      const ids = CALLS.map((call) => requestIds.get(call.fixture))
      expect(ids.every((id) => id !== undefined)).toBe(true)
      const query =
        'SELECT request_id, provider, api, is_streaming, status_code, session_id FROM turns WHERE request_id = ANY($1)'
      let rows: Record<string, unknown>[] = []
      // Recording is asynchronous (observability mode): wait for the commits, bounded.
      for (const deadline = Date.now() + TURN_WAIT_MS; Date.now() < deadline; await sleep(500)) {
        rows = (await db!.query(query, [ids])).rows
        if (rows.length >= CALLS.length) break
      }
      expect(rows).toHaveLength(CALLS.length)
      for (const call of CALLS) {
        const row = rows.find((candidate) => candidate.request_id === requestIds.get(call.fixture))
        expect(row, call.fixture).toMatchObject({
          provider: call.provider,
          api: call.api,
          is_streaming: call.streaming,
          status_code: 200,
        })
      }
      expect(new Set(rows.map((row) => row.session_id)).size).toBe(1)
    })
  },
)
