import { describe, expect, it } from 'vitest'
import type { HeaderMap } from '../../src/exchange.js'
import type { BodySessionHints } from '../../src/providers/types.js'
import { resolveEnvelope } from '../../src/session/envelope.js'
import { DEFAULT_ENVELOPE_OPTIONS, envelopeOptionsSchema } from '../../src/session/envelope-options.js'
import { NIL_ORG } from '../../src/session/turn.js'

const CONVERSATION = 'eccdc673dfe615c3766932b2289136ecbb6b19786246387dca532c6457bb77c1'
const ORG = '0190c7a2-5b1e-7c3d-9e4f-1a2b3c4d5e6f'

function resolve(
  headers: HeaderMap,
  extra: {
    hints?: BodySessionHints
    metadata?: Record<string, Record<string, unknown>>
    options?: unknown
  } = {},
) {
  return resolveEnvelope(
    {
      headers,
      metadata: extra.metadata ?? {},
      hints: extra.hints ?? {},
      conversationHash: CONVERSATION,
      requestId: 'req-1',
    },
    envelopeOptionsSchema.parse(extra.options ?? {}),
  )
}

describe('resolveEnvelope: session id', () => {
  it('prefers the x-tapes envelope and reads all of it', () => {
    const { envelope, rejected } = resolve({
      'user-agent': 'claude-cli/2.1.219 (external, sdk-cli)',
      'x-claude-code-session-id': 'native-id',
      'x-tapes-harness-id': 'claude',
      'x-tapes-harness-session-id': 'tapes-id',
      'x-tapes-cwd': '/w%20s',
      'x-tapes-session-name': 'run',
      'x-tapes-parent-harness-session-id': 'parent-id',
    })
    expect(envelope).toMatchObject({
      harnessId: 'claude',
      harnessSessionId: 'tapes-id',
      sessionSource: 'header:x-tapes-harness-session-id',
      harnessVersion: '2.1.219',
      cwd: '/w s',
      name: 'run',
      parent: { harnessId: 'claude', harnessSessionId: 'parent-id' },
      orgId: NIL_ORG,
      authSubject: null,
      endSession: false,
    })
    expect(rejected).toEqual([])
  })

  it.each([
    ['x-claude-code-session-id', 'claude-cli/2.1.0', 'claude'],
    ['session-id', 'codex_cli_rs/0.50.0 (Mac OS 15; arm64)', 'codex'],
    ['session_id', 'codex_cli_rs/0.30.0', 'codex'],
    ['conversation_id', 'codex_cli_rs/0.20.0', 'codex'],
    ['agent-session-id', 'goose/1.9.0', 'goose'],
    ['x-opencode-session', 'opencode/0.15.0', 'opencode'],
    ['x-opencode-session-id', 'opencode/1.18.0', 'opencode'],
    ['x-session-affinity', 'opencode/1.1.53', 'opencode'],
    ['x-amp-thread-id', 'node', 'amp'],
    ['x-session-id', 'GeminiCLI/0.9.0/gemini-2.5-pro (linux; x64; terminal)', 'gemini-cli'],
    ['x-qwen-code-session-id', 'QwenCode/0.1.0 (linux; x64)', 'qwen-code'],
    ['helicone-session-id', 'python-httpx/0.27', 'unknown'],
    ['x-litellm-session-id', 'curl/8.0', 'unknown'],
    ['x-session-id', 'curl/8.0', 'unknown'],
  ])('takes a harness-native id from %s', (header, userAgent, harnessId) => {
    const { envelope } = resolve({ 'user-agent': userAgent, [header]: 'sess-123' })
    expect(envelope.harnessSessionId).toBe('sess-123')
    expect(envelope.sessionSource).toBe(`header:${header}`)
    expect(envelope.harnessId).toBe(harnessId)
  })

  it('orders native headers as documented', () => {
    const { envelope } = resolve({
      'x-session-id': 'generic',
      'x-opencode-session': 'oc',
      'session-id': 'codex',
    })
    expect(envelope.sessionSource).toBe('header:session-id')
    expect(envelope.harnessId).toBe('codex') // implied by the header when the user agent says nothing
  })

  it('falls back to body hints: metadata session, then conversation, then prompt_cache_key', () => {
    expect(
      resolve({}, { hints: { metadataSessionId: 'm', conversationId: 'c', promptCacheKey: 'p' } }).envelope,
    ).toMatchObject({
      harnessSessionId: 'm',
      sessionSource: 'body:metadata.user_id',
    })
    expect(
      resolve({}, { hints: { conversationId: 'conv_1', promptCacheKey: 'p' } }).envelope.sessionSource,
    ).toBe('body:conversation')
    expect(resolve({}, { hints: { promptCacheKey: 'p' } }).envelope.sessionSource).toBe(
      'body:prompt_cache_key',
    )
  })

  it("takes gemini-cli's Code Assist request.session_id as the session, the user agent naming the harness", () => {
    const { envelope } = resolve(
      { 'user-agent': 'GeminiCLI/0.9.0/gemini-2.5-pro (linux; x64)' },
      { hints: { geminiSessionId: '5d1f0c1e-8f7a-4c2b-9a51-2f3b7c0d9e44' } },
    )
    expect(envelope).toMatchObject({
      harnessId: 'gemini-cli',
      harnessSessionId: '5d1f0c1e-8f7a-4c2b-9a51-2f3b7c0d9e44',
      sessionSource: 'body:request.session_id',
    })
  })

  it('does not use previous_response_id or the raw metadata.user_id as a session key', () => {
    const { envelope } = resolve({}, { hints: { previousResponseId: 'resp_1', metadataUserId: 'user_abc' } })
    expect(envelope.sessionSource).toBe('synthetic')
  })

  it('synthesizes the id from the conversation hash', () => {
    const { envelope } = resolve({ 'user-agent': 'claude-cli/2.1.219' })
    expect(envelope).toMatchObject({
      harnessId: 'claude',
      harnessSessionId: 'eccdc673dfe615c3',
      sessionSource: 'synthetic',
    })
  })

  it('gives each unparseable call its own synthetic id', () => {
    const options = DEFAULT_ENVELOPE_OPTIONS
    const id = (requestId: string) =>
      resolveEnvelope({ headers: {}, metadata: {}, hints: {}, conversationHash: null, requestId }, options)
        .envelope.harnessSessionId
    expect(id('a')).toMatch(/^[0-9a-f]{16}$/)
    expect(id('a')).not.toBe(id('b'))
  })

  it('skips and reports ids that are over-long or unsafe', () => {
    const { envelope, rejected } = resolve({
      'x-tapes-harness-session-id': 'x'.repeat(300),
      'x-claude-code-session-id': 'id with spaces',
      'session-id': '<script>',
      'x-session-id': 'ok-id',
    })
    expect(envelope.harnessSessionId).toBe('ok-id')
    expect(rejected).toEqual([
      'header:x-tapes-harness-session-id:too_long',
      'header:x-claude-code-session-id:unsafe_characters',
      'header:session-id:unsafe_characters',
    ])
  })

  it('keeps the parent in the parent harness when given, and is told to end the session', () => {
    const { envelope } = resolve({
      'x-tapes-harness-id': 'claude',
      'x-tapes-harness-session-id': 'child',
      'x-tapes-parent-harness-session-id': 'p',
      'x-tapes-parent-harness-id': 'codex',
      'x-tapes-session-end': 'TRUE',
    })
    expect(envelope.parent).toEqual({ harnessId: 'codex', harnessSessionId: 'p' })
    expect(envelope.endSession).toBe(true)
    expect(resolve({ 'x-tapes-session-end': 'yes' }).envelope.endSession).toBe(false)
  })

  it('decodes harness metadata and drops a hostile one with a report', () => {
    const good = Buffer.from('{"kind":"interactive"}').toString('base64url')
    expect(resolve({ 'x-tapes-harness-metadata': good }).envelope.harnessMetadata).toEqual({
      kind: 'interactive',
    })
    const { envelope, rejected } = resolve({
      'x-tapes-harness-metadata': Buffer.from('[1]').toString('base64url'),
    })
    expect(envelope.harnessMetadata).toEqual({})
    expect(rejected).toEqual(['header:x-tapes-harness-metadata:not_an_object'])
  })
})

describe('resolveEnvelope: threads', () => {
  it('takes the Claude subagent id as the thread', () => {
    const { envelope } = resolve({
      'x-claude-code-session-id': 's',
      'x-claude-code-agent-id': 'a0c0778e223db598c',
    })
    expect(envelope.threadId).toBe('a0c0778e223db598c')
  })

  it('takes a Codex thread only when it differs from the session', () => {
    expect(resolve({ 'session-id': 's', 'thread-id': 's' }).envelope.threadId).toBeNull()
    expect(resolve({ 'session-id': 's', 'thread-id': 't' }).envelope.threadId).toBe('t')
  })

  it('takes an opencode subagent session’s parent from its parent header', () => {
    const { envelope } = resolve({
      'user-agent': 'opencode/1.1.53',
      'x-session-affinity': 'ses_child',
      'x-parent-session-id': 'ses_parent',
    })
    expect(envelope).toMatchObject({
      harnessId: 'opencode',
      harnessSessionId: 'ses_child',
      parent: { harnessId: 'opencode', harnessSessionId: 'ses_parent' },
    })
  })

  it('reports a hostile thread id instead of storing it', () => {
    const { envelope, rejected } = resolve({ 'x-claude-code-agent-id': 'a\u0000b' })
    expect(envelope.threadId).toBeNull()
    expect(rejected).toEqual(['header:x-claude-code-agent-id:unsafe_characters'])
  })
})

describe('resolveEnvelope: identity', () => {
  it('takes org and subject from the trusted headers, lowercasing the org', () => {
    const { envelope } = resolve({
      'x-paper-auth-org-id': ORG.toUpperCase(),
      'x-paper-auth-subject': 'user_01',
    })
    expect(envelope.orgId).toBe(ORG)
    expect(envelope.authSubject).toBe('user_01')
  })

  it('rejects and counts an org that is not a UUID', () => {
    const { envelope, rejected } = resolve({ 'x-paper-auth-org-id': 'acme' })
    expect(envelope.orgId).toBe(NIL_ORG)
    expect(rejected).toEqual(['header:x-paper-auth-org-id:invalid'])
  })

  it('ignores a client org header by default and reports the attempt', () => {
    const { envelope, rejected } = resolve({ 'x-tapes-org-id': ORG })
    expect(envelope.orgId).toBe(NIL_ORG)
    expect(rejected).toEqual(['header:x-tapes-org-id:client_org_not_allowed'])
  })

  it('lets the client choose the org only when configured, and never over a trusted org', () => {
    const other = '0190c7a2-0000-7000-8000-000000000000'
    expect(resolve({ 'x-tapes-org-id': ORG }, { options: { allowClientOrg: true } }).envelope.orgId).toBe(ORG)
    expect(
      resolve({ 'x-tapes-org-id': other, 'x-paper-auth-org-id': ORG }, { options: { allowClientOrg: true } })
        .envelope.orgId,
    ).toBe(ORG)
  })

  it('prefers verified claims in Envoy metadata over headers', () => {
    const { envelope } = resolve(
      { 'x-paper-auth-org-id': '0190c7a2-0000-7000-8000-000000000000', 'x-paper-auth-subject': 'header-sub' },
      {
        metadata: { 'envoy.filters.http.jwt_authn': { jwt_payload: { org_id: ORG, sub: 'jwt-sub' } } },
        options: {
          orgMetadata: { namespace: 'envoy.filters.http.jwt_authn', path: ['jwt_payload', 'org_id'] },
          subjectMetadata: { namespace: 'envoy.filters.http.jwt_authn', path: ['jwt_payload', 'sub'] },
        },
      },
    )
    expect(envelope.orgId).toBe(ORG)
    expect(envelope.authSubject).toBe('jwt-sub')
  })

  it('falls back to the header when a metadata claim is not a string', () => {
    const { envelope, rejected } = resolve(
      { 'x-paper-auth-org-id': ORG },
      {
        metadata: { jwt: { org: 42 } },
        options: { orgMetadata: { namespace: 'jwt', path: ['org'] } },
      },
    )
    expect(envelope.orgId).toBe(ORG)
    expect(rejected).toEqual(['metadata:jwt:not_a_string'])
  })

  it('with identityHeaders off, takes the org only from metadata: a header never falls back in', () => {
    const options = { orgMetadata: { namespace: 'jwt', path: ['org'] }, identityHeaders: false }
    const spoofed = { 'x-paper-auth-org-id': ORG, 'x-paper-auth-subject': 'someone' }
    const none = resolve(spoofed, { options })
    expect(none.envelope.orgId).toBe(NIL_ORG)
    expect(none.envelope.authSubject).toBeNull()
    expect(none.rejected).toEqual([
      'header:x-paper-auth-org-id:header_not_trusted',
      'header:x-paper-auth-subject:header_not_trusted',
    ])
    const other = '0190c7a2-0000-7000-8000-000000000000'
    expect(resolve(spoofed, { options, metadata: { jwt: { org: other } } }).envelope.orgId).toBe(other)
  })

  it('honours renamed trusted headers and ignores the defaults then', () => {
    const options = { orgHeader: 'X-Gateway-Org', subjectHeader: 'x-gateway-sub' }
    const { envelope } = resolve(
      { 'x-gateway-org': ORG, 'x-gateway-sub': 's', 'x-paper-auth-subject': 'spoof' },
      { options },
    )
    expect(envelope.orgId).toBe(ORG)
    expect(envelope.authSubject).toBe('s')
  })

  it('rejects a subject with control characters', () => {
    const { envelope, rejected } = resolve({ 'x-paper-auth-subject': 'evil\u001b[2J' })
    expect(envelope.authSubject).toBeNull()
    expect(rejected).toEqual(['header:x-paper-auth-subject:invalid'])
  })
})

describe('envelope options', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_ENVELOPE_OPTIONS).toEqual({
      orgHeader: 'x-paper-auth-org-id',
      subjectHeader: 'x-paper-auth-subject',
      identityHeaders: true,
      allowClientOrg: false,
      clientOrgHeader: 'x-tapes-org-id',
      sessionEndHeader: 'x-tapes-session-end',
    })
  })

  it('refuses unknown keys and malformed header names', () => {
    expect(envelopeOptionsSchema.safeParse({ allowClientOrgs: true }).success).toBe(false)
    expect(envelopeOptionsSchema.safeParse({ orgHeader: 'bad header' }).success).toBe(false)
    expect(envelopeOptionsSchema.safeParse({ orgMetadata: { namespace: 'jwt', path: [] } }).success).toBe(
      false,
    )
  })
})
