/**
 * The recorded Claude Code session (17 calls: a title-generation side call, the main thread, a
 * two-call subagent) through the real provider parsers, the chain and the envelope resolver.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { HeaderMap } from '../../src/exchange.js'
import { detectApi, parseRequest, parseResponse } from '../../src/providers/index.js'
import { buildChain, type ChainResult } from '../../src/session/chain.js'
import { resolveEnvelope } from '../../src/session/envelope.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import { SIGNALS } from '../../src/session/harness.js'

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/corpus')
const present = existsSync(path.join(CORPUS, 'anthropic-claudecode-session-turn01'))
if (!present) console.warn(`[session corpus] ${CORPUS} is absent: skipping the Claude Code session tests`)

const TITLE_CALL = 1
const SUBAGENT_CALLS = [10, 11]
const MAIN_CALLS = [2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17]
const SESSION_ID = 'ac9b5a71-50d4-47c2-b771-4d5c3e96d899'

interface RecordedCall {
  index: number
  headers: HeaderMap
  body: Record<string, unknown>
  path: string
  chain: ChainResult
}

function loadCall(index: number): RecordedCall {
  const dir = path.join(CORPUS, `anthropic-claudecode-session-turn${String(index).padStart(2, '0')}`)
  const read = (file: string) => readFileSync(path.join(dir, file))
  const requestMeta = JSON.parse(read('request.headers.json').toString('utf8'))
  const responseMeta = JSON.parse(read('response.headers.json').toString('utf8'))
  const body = JSON.parse(read('request.json').toString('utf8'))
  const request = parse(requestMeta.path, body)
  const raw = read('response.body')
  const response = parseResponse({
    api: request.api,
    status: responseMeta.status,
    contentType: responseMeta.content_type,
    body: responseMeta.content_encoding === 'gzip' ? gunzipSync(raw) : raw,
    request,
  })
  if (!response.complete) throw new Error(`call ${index}: the recorded response did not parse completely`)
  return {
    index,
    headers: requestMeta.headers,
    body,
    path: requestMeta.path,
    chain: buildChain(request, response),
  }
}

function parse(requestPath: string, body: unknown) {
  const detection = detectApi('POST', requestPath, {})
  if (!detection.ok) throw new Error(`not detected: ${requestPath}`)
  const parsed = parseRequest(detection.api, Buffer.from(JSON.stringify(body)), requestPath)
  if (!parsed.ok) throw new Error(parsed.reason)
  return parsed.value
}

const SESSION_HEADERS = new Set<string>(
  SIGNALS.flatMap((signal) => ('header' in signal ? [signal.header] : [])),
)
const withoutSessionHeaders = (headers: HeaderMap, keepNative: boolean): HeaderMap =>
  Object.fromEntries(
    Object.entries(headers).filter(
      ([name]) => !name.startsWith('x-tapes-') && (keepNative || !SESSION_HEADERS.has(name)),
    ),
  )

/** Resolves one call as if sent with `headers` and `body` (re-parsed for its session hints). */
function resolveCall(call: RecordedCall, headers: HeaderMap, body: Record<string, unknown>) {
  const request = parse(call.path, body)
  const chain = buildChain(request, null)
  return resolveEnvelope(
    {
      headers,
      metadata: {},
      hints: request.hints,
      conversationHash: chain.conversationHash,
      requestId: `turn-${call.index}`,
    },
    DEFAULT_ENVELOPE_OPTIONS,
  )
}

const sessionKey = (envelope: { harnessId: string; harnessSessionId: string }) =>
  `${envelope.harnessId}/${envelope.harnessSessionId}`

describe.skipIf(!present)('the recorded Claude Code session', () => {
  const calls = present ? Array.from({ length: 17 }, (_, i) => loadCall(i + 1)) : []
  const call = (index: number) => calls[index - 1]!

  it('hashes every re-sent assistant message to the live response node that produced it', () => {
    const responses = new Map(calls.map((c) => [c.chain.responseHash!, c.index]))
    let checked = 0
    for (const later of calls) {
      for (const node of later.chain.nodes.slice(0, -1)) {
        if (node.role !== 'assistant') continue
        const producer = responses.get(node.hash)
        expect(
          producer,
          `call ${later.index}: re-sent assistant message ${node.hash} matches no live response`,
        ).toBeDefined()
        expect(producer!).toBeLessThan(later.index)
        checked++
      }
    }
    // Every main-thread boundary (13) and the subagent's (1) is exercised, and re-checked in each later call.
    const resent = new Set(calls.flatMap((c) => c.chain.nodes.slice(0, -1).map((n) => responses.get(n.hash))))
    resent.delete(undefined)
    expect([...resent].sort((a, b) => a! - b!)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16])
    expect(checked).toBe((13 * 14) / 2 + 1) // turn 17 re-sends 13 replies, turn 3 one; plus the subagent's
  })

  it('keeps one root for the main thread and distinct roots for the side calls', () => {
    const mainRoots = new Set(MAIN_CALLS.map((i) => call(i).chain.rootHash))
    expect(mainRoots.size).toBe(1)
    expect(mainRoots.has(call(TITLE_CALL).chain.rootHash)).toBe(false)
    expect(mainRoots.has(call(SUBAGENT_CALLS[0]!).chain.rootHash)).toBe(false)
  })

  it('puts all 17 calls in one session when the x-tapes envelope is present', () => {
    const envelopes = calls.map((c) => resolveCall(c, c.headers, c.body))
    expect(new Set(envelopes.map(({ envelope }) => sessionKey(envelope)))).toEqual(
      new Set([`claude/${SESSION_ID}`]),
    )
    for (const { envelope, rejected } of envelopes) {
      expect(rejected).toEqual([])
      expect(envelope).toMatchObject({
        sessionSource: 'header:x-tapes-harness-session-id',
        harnessVersion: '2.1.219',
        cwd: '/private/tmp/tapes-fixture-run',
        name: 'tapes-fixture-run-7c',
        harnessMetadata: {
          entrypoint: 'sdk-cli',
          kind: 'interactive',
          nameSource: 'derived',
          peerProtocol: 1,
        },
      })
    }
    expect(envelopes.map(({ envelope }) => envelope.threadId)).toEqual(
      calls.map((c) => (SUBAGENT_CALLS.includes(c.index) ? 'a0c0778e223db598c' : null)),
    )
  })

  it('falls back to Claude Code’s own session header without the x-tapes envelope', () => {
    const envelopes = calls.map(
      (c) => resolveCall(c, withoutSessionHeaders(c.headers, true), c.body).envelope,
    )
    expect(new Set(envelopes.map(sessionKey))).toEqual(new Set([`claude/${SESSION_ID}`]))
    expect(new Set(envelopes.map((e) => e.sessionSource))).toEqual(
      new Set(['header:x-claude-code-session-id']),
    )
    // The subagent shares the session as its own thread, named by x-claude-code-agent-id.
    expect(envelopes.map((e) => e.threadId)).toEqual(
      calls.map((c) => (SUBAGENT_CALLS.includes(c.index) ? 'a0c0778e223db598c' : null)),
    )
  })

  it('falls back to the body’s metadata.user_id without any session header', () => {
    const envelopes = calls.map(
      (c) => resolveCall(c, withoutSessionHeaders(c.headers, false), c.body).envelope,
    )
    expect(new Set(envelopes.map(sessionKey))).toEqual(new Set([`claude/${SESSION_ID}`]))
    expect(new Set(envelopes.map((e) => e.sessionSource))).toEqual(new Set(['body:metadata.user_id']))
  })

  it('splits synthetic sessions into main thread, title call and subagent without headers or metadata', () => {
    const keys = new Map(
      calls.map((c) => {
        const { metadata: _dropped, ...body } = c.body
        const { envelope } = resolveCall(c, withoutSessionHeaders(c.headers, false), body)
        expect(envelope.sessionSource).toBe('synthetic')
        expect(envelope.harnessId).toBe('claude') // from the user agent, which is not a session header
        return [c.index, sessionKey(envelope)] as const
      }),
    )
    const main = new Set(MAIN_CALLS.map((i) => keys.get(i)))
    expect(main.size).toBe(1)
    const subagent = new Set(SUBAGENT_CALLS.map((i) => keys.get(i)))
    expect(subagent.size).toBe(1)
    const distinct = new Set([...main, ...subagent, keys.get(TITLE_CALL)])
    expect(distinct.size).toBe(3)
  })
})
