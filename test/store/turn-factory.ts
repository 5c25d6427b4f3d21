/**
 * Builds Turn values for store tests: a chain of content-addressed nodes from short texts, and a
 * Turn with sensible defaults that each test overrides.
 */
import { createHash, randomUUID } from 'node:crypto'
import type { ChainNode, RawBodies, SessionEnvelope, Turn } from '../../src/session/turn.js'
import { compressRawBody } from '../../src/store/raw-body-codec.js'

/** Nodes root-first; the hash covers the parent, so the same prefix yields the same hashes. */
export function chain(texts: string[], roles: string[] = ['user', 'assistant']): ChainNode[] {
  const nodes: ChainNode[] = []
  let parentHash: string | null = null
  texts.forEach((text, i) => {
    const role = roles[i % roles.length]!
    const content = { role, content: [{ type: 'text', text }] }
    const hash = createHash('sha256')
      .update(JSON.stringify([parentHash, content]))
      .digest('hex')
    nodes.push({ hash, parentHash, role, content })
    parentHash = hash
  })
  return nodes
}

export interface TurnOverrides extends Partial<Omit<Turn, 'envelope'>> {
  envelope?: Partial<SessionEnvelope>
}

export function makeTurn(overrides: TurnOverrides = {}): Turn {
  const { envelope, ...rest } = overrides
  const nodes = rest.nodes ?? chain(['hello', 'hi there'])
  return {
    requestId: randomUUID(),
    provider: 'anthropic',
    api: 'anthropic.messages',
    model: 'claude-sonnet-4-5',
    responseModel: 'claude-sonnet-4-5-20250929',
    statusCode: 200,
    isStreaming: true,
    isComplete: true,
    stopReason: 'end_turn',
    usage: {
      inputTokens: 100,
      outputTokens: 20,
      cacheReadTokens: 80,
      cacheCreationTokens: 10,
      reasoningTokens: null,
      status: 'reported',
    },
    costUsd: 0.0015,
    startedAt: new Date('2026-01-01T10:00:00Z'),
    latencyMs: 1200,
    ttftMs: 300,
    nodes,
    requestLeafHash: nodes.at(-2)?.hash ?? null,
    responseHash: nodes.at(-1)?.hash ?? null,
    providerResponseId: 'msg_01',
    errorType: null,
    errorMessage: null,
    ...rest,
    envelope: {
      orgId: randomUUID(),
      authSubject: 'user@example.com',
      harnessId: 'claude-code',
      harnessSessionId: 'session-1',
      sessionSource: 'x-tapes-session-id',
      harnessVersion: '2.0.1',
      cwd: '/home/dev/project',
      name: 'fix the bug',
      parent: null,
      harnessMetadata: {},
      threadId: null,
      endSession: false,
      ...envelope,
    },
  }
}

/** Minutes after 2026-01-01T10:00Z: readable turn times. */
export function at(minutes: number): Date {
  return new Date(Date.UTC(2026, 0, 1, 10, minutes))
}

/** A turn's raw bodies as the parse worker builds them, from the decoded texts. */
export function rawBodies(request: string, response: string): RawBodies {
  return {
    encoding: 'br',
    request: compressRawBody(Buffer.from(request), true),
    response: compressRawBody(Buffer.from(response), true),
  }
}
