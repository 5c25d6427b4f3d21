/**
 * buildTurn with the node cache builds the turns it builds without: every field, the encoded nodes
 * byte for byte and the redaction count, over synthetic coding-agent conversations and the recorded
 * Claude Code session.
 */
import { describe, expect, it } from 'vitest'
import type { Exchange } from '../../src/exchange.js'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import { buildTurn, nodeCacheFor, type TurnBuildOptions } from '../../src/recorder/turn-builder.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import { encodeNodes } from '../../src/store/node-records.js'
import { conversation } from '../helpers/conversation.js'
import { claudeCodeExchanges, noteCorpusSkip } from '../helpers/corpus.js'

const options = (nodeCacheBytes?: number): TurnBuildOptions => ({
  envelope: DEFAULT_ENVELOPE_OPTIONS,
  prices: DEFAULT_PRICES,
  storeContent: true,
  ...(nodeCacheBytes === undefined ? {} : { nodeCacheBytes }),
})

/** Builds every exchange in order with and without a cache and compares the results. */
function expectSameTurns(exchanges: readonly Exchange[], cachedOptions: TurnBuildOptions): void {
  const plainOptions = options(0)
  for (const exchange of exchanges) {
    const plain = buildTurn(exchange, plainOptions)
    const cached = buildTurn(exchange, cachedOptions)
    if (!plain.ok || !cached.ok) throw new Error(`${exchange.requestId} dropped`)
    // Everything but the report of the cache's own use.
    expect({ ...cached, nodeCache: null }).toEqual({ ...plain, nodeCache: null })
    expect(plain.nodeCache).toEqual({ hits: 0, misses: 0, evictions: 0 })
    expect(Buffer.compare(encodeNodes(cached.turn.nodes), encodeNodes(plain.turn.nodes))).toBe(0)
  }
  expect(nodeCacheFor(plainOptions)).toBeNull()
  expect(nodeCacheFor(cachedOptions)!.stats().hits).toBeGreaterThan(0)
}

/** A conversation whose tool outputs carry a credential from turn 4 on. */
function withSecret(exchanges: Exchange[]): Exchange[] {
  const secret = `ghp_${'x1Y2z3'.repeat(7)}`
  return exchanges.map((exchange) => {
    const bytes = exchange.request.body.chunks[0]!.toString('utf8').replace('"2: ', `"2: ${secret} `)
    const chunk = Buffer.from(bytes)
    return {
      ...exchange,
      request: {
        ...exchange.request,
        body: { ...exchange.request.body, chunks: [chunk], size: chunk.length },
      },
    }
  })
}

describe('buildTurn with the node cache', () => {
  it.each(['anthropic', 'openai'] as const)('builds the turns of a %s conversation unchanged', (format) => {
    expectSameTurns(conversation(format, 40), options())
  })

  it('counts and redacts a resent credential on every turn', () => {
    const exchanges = withSecret(conversation('anthropic', 8))
    expectSameTurns(exchanges, options())
    const cached = options()
    const counts = exchanges.map((exchange) => {
      const result = buildTurn(exchange, cached)
      return result.ok ? result.redacted : -1
    })
    // Round 2's tool output is resent from turn 4 on; the raw bodies are redacted too, not counted again.
    expect(counts).toEqual([0, 0, 0, 1, 1, 1, 1, 1])
  })

  it('builds the same turns under a budget that evicts', () => {
    const cached = options(64 * 1024)
    expectSameTurns(conversation('openai', 40), cached)
    expect(nodeCacheFor(cached)!.stats().evictions).toBeGreaterThan(0)
  })

  const recorded = claudeCodeExchanges()
  noteCorpusSkip('turn-builder cache')
  it.skipIf(!recorded)('builds the recorded Claude Code session unchanged', () => {
    expectSameTurns(recorded!, options())
  })
})
