/**
 * The loop gate through the real ext_proc server, driven by the Envoy emulator: a flagged session gets
 * a 429 local reply in synchronous mode, never in observability mode; and the whole path in a sidecar
 * (three identical agent steps committed → the fourth request is refused).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startSidecar } from '../../src/cli/serve.js'
import { loadServeConfig } from '../../src/config/load.js'
import { createExtProcClient } from '../../src/emulator/client.js'
import { runExchange } from '../../src/emulator/emulator.js'
import { DEFAULT_FILTER, emptyStats, type HttpExchangeSpec } from '../../src/emulator/types.js'
import { silentLogger } from '../../src/log.js'
import { FlaggedSessions } from '../../src/loop/flagged-sessions.js'
import { createLoopGate, sessionKeyAtHeaders } from '../../src/loop/request-gate.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/index.js'
import { NIL_ORG } from '../../src/session/turn.js'
import { startTestServer, type TestServer } from '../helpers/extproc.js'

const ANTHROPIC_RESPONSE = Buffer.from(
  JSON.stringify({
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'tool_use', id: 'toolu_next', name: 'read', input: { path: 'a.txt' } }],
    stop_reason: 'tool_use',
    usage: { input_tokens: 20, output_tokens: 3 },
  }),
)

/** Step `n` of an agent stuck reading the same file: the history grows, the step stays the same. */
function agentStep(sessionId: string, n: number): HttpExchangeSpec {
  const messages: unknown[] = [{ role: 'user', content: 'fix the bug' }]
  for (let i = 0; i < n; i++) {
    messages.push(
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: `toolu_${i}`, name: 'read', input: { path: 'a.txt' } }],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: 'same contents' }],
      },
    )
  }
  return {
    name: `step-${n}`,
    request: {
      method: 'POST',
      path: '/v1/messages',
      authority: 'api.anthropic.com',
      headers: [
        ['content-type', 'application/json'],
        ['user-agent', 'claude-cli/2.0.14 (external, cli)'],
        ['x-claude-code-session-id', sessionId],
      ],
      body: Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 100, messages })),
    },
    response: { status: 200, headers: [['content-type', 'application/json']], body: ANTHROPIC_RESPONSE },
  }
}

describe('sessionKeyAtHeaders', () => {
  it('names the session as its turn will be named, and nothing when only the body could', () => {
    const headers = { 'user-agent': 'claude-cli/2.0.14', 'x-claude-code-session-id': 'abc' }
    expect(sessionKeyAtHeaders(headers, {}, DEFAULT_ENVELOPE_OPTIONS)).toEqual({
      orgId: NIL_ORG,
      harnessId: 'claude',
      harnessSessionId: 'abc',
    })
    // The trusted org is part of the key: the same session id in another org is another session.
    const org = '0192f0c4-6a3b-7c1d-8e2f-3a4b5c6d7e8f'
    expect(
      sessionKeyAtHeaders({ ...headers, 'x-paper-auth-org-id': org }, {}, DEFAULT_ENVELOPE_OPTIONS),
    ).toEqual({
      orgId: org,
      harnessId: 'claude',
      harnessSessionId: 'abc',
    })
    expect(
      sessionKeyAtHeaders(
        { 'x-tapes-harness-id': 'goose', 'x-tapes-harness-session-id': 's1' },
        {},
        DEFAULT_ENVELOPE_OPTIONS,
      ),
    ).toEqual({ orgId: NIL_ORG, harnessId: 'goose', harnessSessionId: 's1' })
    expect(
      sessionKeyAtHeaders({ 'content-type': 'application/json' }, {}, DEFAULT_ENVELOPE_OPTIONS),
    ).toBeNull()
  })

  it('takes the org from Envoy metadata when that is where the deployment puts it', () => {
    const org = '0192f0c4-6a3b-7c1d-8e2f-3a4b5c6d7e8f'
    const options = {
      ...DEFAULT_ENVELOPE_OPTIONS,
      orgMetadata: { namespace: 'envoy.filters.http.jwt_authn', path: ['claims', 'org'] },
      identityHeaders: false,
    }
    const headers = {
      'user-agent': 'claude-cli/2.0.14',
      'x-claude-code-session-id': 'abc',
      // Ignored with identityHeaders off: only the metadata names the org.
      'x-paper-auth-org-id': '0192f0c4-0000-7000-8000-000000000000',
    }
    const metadata = { 'envoy.filters.http.jwt_authn': { claims: { org } } }
    expect(sessionKeyAtHeaders(headers, metadata, options)).toEqual({
      orgId: org,
      harnessId: 'claude',
      harnessSessionId: 'abc',
    })
    const flagged = new FlaggedSessions()
    flagged.add({ orgId: org, harnessId: 'claude', harnessSessionId: 'abc' })
    const gate = createLoopGate(flagged, options)
    expect(gate(headers, metadata)?.status).toBe(429)
    expect(gate(headers, {})).toBeUndefined()
  })
})

describe('the loop gate in the ext_proc server', () => {
  let t: TestServer
  const flagged = new FlaggedSessions()
  beforeAll(async () => {
    flagged.add({ orgId: NIL_ORG, harnessId: 'claude', harnessSessionId: 'looping' })
    t = await startTestServer({ requestGate: createLoopGate(flagged, DEFAULT_ENVELOPE_OPTIONS) })
  })
  afterAll(() => t.close())

  it('answers 429 to a flagged session in synchronous mode; the request never goes upstream', async () => {
    const result = await runExchange(t.client, DEFAULT_FILTER, agentStep('looping', 1), emptyStats())
    expect(result.violations).toEqual([])
    expect(result.localReply?.status).toBe(429)
    expect(result.localReply?.details).toBe('sessiontap_session_loop_detected')
    expect(JSON.parse(result.localReply!.body).error.type).toBe('session_loop_detected')
    expect(result.downstreamResponse).toBeUndefined()
  })

  it('lets other sessions through', async () => {
    const result = await runExchange(t.client, DEFAULT_FILTER, agentStep('fine', 1), emptyStats())
    expect(result.localReply).toBeUndefined()
    expect(result.downstreamResponse?.body.equals(ANTHROPIC_RESPONSE)).toBe(true)
  })

  it('never answers in observability mode', async () => {
    const cfg = { ...DEFAULT_FILTER, observabilityMode: true, deferredCloseMs: 0 }
    const result = await runExchange(t.client, cfg, agentStep('looping', 1), emptyStats())
    expect(result.localReply).toBeUndefined()
    expect(result.downstreamResponse?.body.equals(ANTHROPIC_RESPONSE)).toBe(true)
  })
})

describe('a sidecar with SESSIONTAP_LOOP_BLOCK=true', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
  })

  async function detections(http: string): Promise<number> {
    const text = await (await fetch(`http://${http}/metrics`)).text()
    return Number(/^sessiontap_loop_detections_total (\d+)/m.exec(text)?.[1] ?? Number.NaN)
  }

  it('refuses the fourth request after three identical agent steps were committed', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-gate-'))
    dirs.push(dataDir)
    const config = loadServeConfig(new Map(), {
      SESSIONTAP_DATA_DIR: dataDir,
      SESSIONTAP_GRPC_ADDRESS: '127.0.0.1:0',
      SESSIONTAP_HTTP_ADDRESS: '127.0.0.1:0',
      SESSIONTAP_PARSE_WORKERS: '0',
      SESSIONTAP_LOOP_BLOCK: 'true',
    })
    const sidecar = await startSidecar(config, silentLogger)
    const client = createExtProcClient(sidecar.grpcAddress)
    try {
      for (let n = 1; n <= 3; n++) {
        const result = await runExchange(client, DEFAULT_FILTER, agentStep('stuck', n), emptyStats())
        expect(result.localReply).toBeUndefined()
      }
      // The commits happen off the reply path; the metric says when the third one flagged the session.
      for (let i = 0; i < 200 && (await detections(sidecar.httpAddress)) < 1; i++) await sleep(25)
      expect(await detections(sidecar.httpAddress)).toBe(1)

      const fourth = await runExchange(client, DEFAULT_FILTER, agentStep('stuck', 4), emptyStats())
      expect(fourth.localReply?.status).toBe(429)
      const other = await runExchange(client, DEFAULT_FILTER, agentStep('other', 4), emptyStats())
      expect(other.localReply).toBeUndefined()
    } finally {
      client.close()
      await sidecar.stop('test')
    }
  })
})
