/**
 * What was said is what is stored, on the paths users run: `sessiontap serve` as its own process with
 * its default options (parse workers on), on the embedded default database and on DATABASE_URL. A
 * replay of hand-written exchanges (text, a tool call, its result, a streamed tool call) must leave
 * every node of every turn's chain with the content the request and response carried, and the
 * transcript command must show it. With SESSIONTAP_STORE_CONTENT=false no content is stored at all.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/run.js'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import { detectApi, parseRequest, parseResponse } from '../../src/providers/index.js'
import { decodeBody } from '../../src/recorder/body-decoding.js'
import { buildChain, type ChainResult } from '../../src/session/chain.js'
import { NIL_ORG } from '../../src/session/turn.js'
import { openStore, type Store } from '../../src/store/index.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { startServe, waitForCounter } from '../helpers/serve-process.js'

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures')
const CASE_DIRS = [path.join(FIXTURES, 'cases'), path.join(FIXTURES, 'tool-cases')]
const CASES = loadExchangeCases(CASE_DIRS)

/** The chain each case should leave in the store, computed from its bytes as the recorder would. */
function expected(c: (typeof CASES)[number]): { chain: ChainResult; responseId: string | null } {
  const { request, response } = c.spec
  const detected = detectApi(request.method, request.path, {})
  if (!detected.ok) throw new Error(`${c.name}: not an LLM call`)
  const parsed = parseRequest(detected.api, request.body, request.path)
  if (!parsed.ok) throw new Error(`${c.name}: ${parsed.reason}`)
  const answer = parseResponse({
    api: detected.api,
    status: response.status,
    contentType: c.recorded.contentType,
    body: decodeBody([response.body], c.recorded.contentEncoding).bytes,
    request: parsed.value,
  })
  return { chain: buildChain(parsed.value, answer), responseId: answer.providerResponseId }
}

/** The one turn a case left: its request leaf, told apart by the provider's response id
 * (two fixtures send the same conversation to different providers, which hashes alike). */
async function turnOf(store: Store, c: (typeof CASES)[number]) {
  const { chain, responseId } = expected(c)
  const { rows } = await store.driver.query<{
    session_id: string
    response_hash: string | null
    output_tokens: string | null
  }>(
    'SELECT session_id, response_hash, output_tokens FROM turns WHERE request_leaf_hash = $1 AND provider_response_id = $2',
    [chain.requestLeafHash, responseId],
  )
  expect(rows, c.name).toHaveLength(1)
  return rows[0]!
}

interface Recorded {
  store: Store
  /** Opens the same database again. */
  reopen(): Promise<Store>
  /** Environment for `sessiontap sessions …` against the same database. */
  env: Record<string, string>
}

/** Starts serve, replays the fixtures, stops it (SIGTERM drains the recorder), opens its database. */
async function recordFixtures(env: Record<string, string>, dataDir: string): Promise<Recorded> {
  const serve = startServe({ SESSIONTAP_DATA_DIR: dataDir, ...env })
  try {
    const { grpc, http } = await serve.addresses
    const out: string[] = []
    const code = await run(
      ['replay', ...CASE_DIRS, '--target', grpc, '--message-timeout-ms', '5000'],
      {},
      (s) => out.push(s),
    )
    expect(out.join('\n')).toContain('violations: 0')
    expect(code).toBe(0)
    await waitForCounter(http, 'sessiontap_recorder_committed_total', CASES.length)
  } finally {
    serve.child.kill('SIGTERM')
  }
  expect(await serve.exited).toBe(0)
  const dbEnv: Record<string, string> = env.DATABASE_URL
    ? { DATABASE_URL: env.DATABASE_URL }
    : { SESSIONTAP_DATA_DIR: dataDir }
  const reopen = () => openStore(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL, dataDir } : { dataDir })
  return { store: await reopen(), reopen, env: dbEnv }
}

async function storedContent(store: Store, hash: string): Promise<unknown> {
  const { rows } = await store.driver.query<{ content: unknown }>(
    'SELECT content FROM nodes WHERE org_id = $1 AND hash = $2',
    [NIL_ORG, hash],
  )
  expect(rows, `node ${hash}`).toHaveLength(1)
  return rows[0]!.content
}

async function transcriptOf(recorded: Recorded, c: (typeof CASES)[number]): Promise<string> {
  const { session_id } = await turnOf(recorded.store, c)
  // The embedded database admits one process at a time, like a running sidecar: the CLI gets it alone.
  await recorded.store.close()
  const out: string[] = []
  try {
    const code = await run(
      ['sessions', 'transcript', session_id],
      recorded.env,
      (s) => out.push(s),
      (s) => out.push(s),
    )
    expect(code, out.join('\n')).toBe(0)
  } finally {
    recorded.store = await recorded.reopen()
  }
  return out.join('\n')
}

const TOOL_CASE = CASES.find((c) => c.name === 'anthropic-messages-stream-tools')!

describe.each([
  { setup: 'the embedded default database (as npm start runs it)', postgres: false },
  { setup: 'DATABASE_URL (as production runs it)', postgres: true },
])('sessiontap serve with default options on $setup', ({ postgres }) => {
  let db: TestPostgres | undefined
  let dataDir: string
  let recorded: Recorded

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-content-'))
    if (postgres) db = await startTestPostgres()
    recorded = await recordFixtures(db ? { DATABASE_URL: db.url } : {}, dataDir)
  })
  afterAll(async () => {
    await recorded?.store.close()
    await db?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('stores every node of every turn with the content its request and response carried', async () => {
    const { rows } = await recorded.store.driver.query<{ n: number }>('SELECT count(*)::int AS n FROM turns')
    expect(rows[0]!.n).toBe(CASES.length)
    for (const c of CASES) {
      const { chain } = expected(c)
      expect(chain.responseHash, `${c.name} has a response node`).not.toBeNull()
      expect((await turnOf(recorded.store, c)).response_hash, c.name).toBe(chain.responseHash)
      for (const node of chain.nodes) {
        expect(await storedContent(recorded.store, node.hash), `${c.name}: ${node.role} node`).toEqual(
          node.content,
        )
      }
    }
  })

  it('keeps the words, the tool calls with their arguments and the tool results', async () => {
    const { chain } = expected(TOOL_CASE)
    const stored = JSON.stringify(
      await Promise.all(chain.nodes.map((n) => storedContent(recorded.store, n.hash))),
    )
    for (const said of [
      'careful coding agent', // system prompt
      'kiwi harvest', // user text
      'Let me read notes.txt first.', // assistant text
      '"tool_name":"read_file"',
      '"tool_input":{"path":"notes.txt"}', // tool call arguments
      '"tool_output":"The kiwi harvest starts on 14 March, crates go to dock 7."', // tool result
      'The harvest starts on 14 March; I will check the dock schedule.', // streamed text, deltas joined
      '"tool_input":{"path":"dock-7.txt"}', // streamed tool call (input_json_delta pieces joined)
    ]) {
      expect(stored).toContain(said)
    }
    const transcript = await transcriptOf(recorded, TOOL_CASE)
    expect(transcript).not.toContain('content not stored')
    expect(transcript).toContain('kiwi harvest')
    expect(transcript).toContain('dock schedule')
  })
})

describe('sessiontap serve with SESSIONTAP_STORE_CONTENT=false', () => {
  let dataDir: string
  let recorded: Recorded
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-content-'))
    recorded = await recordFixtures({ SESSIONTAP_STORE_CONTENT: 'false' }, dataDir)
  })
  afterAll(async () => {
    await recorded?.store.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('stores the chains (hashes, roles, links) and usage, and no content at all', async () => {
    const nodes = await recorded.store.driver.query<{ n: number; with_content: number }>(
      'SELECT count(*)::int AS n, count(content)::int AS with_content FROM nodes',
    )
    expect(nodes.rows[0]!.n).toBeGreaterThan(CASES.length)
    expect(nodes.rows[0]!.with_content).toBe(0)
    for (const c of CASES) {
      const turn = await turnOf(recorded.store, c)
      expect(turn.response_hash, c.name).toBe(expected(c).chain.responseHash)
      expect(turn.output_tokens, c.name).not.toBeNull()
    }
    const transcript = await transcriptOf(recorded, TOOL_CASE)
    expect(transcript).toContain('content not stored')
    expect(transcript).not.toContain('kiwi')
  })
})
