/**
 * The node cache never changes a chain: over many random conversations (growing histories, edits in
 * the middle, a changed system prompt, branches, credentials to redact, a budget small enough to
 * evict), a cached requestChain gives the same nodes, bytes for bytes, as an uncached one.
 */
import { describe, expect, it } from 'vitest'
import type { ContentBlock, Message } from '../../src/providers/types.js'
import { requestChain } from '../../src/session/chain.js'
import { NodeCache } from '../../src/session/node-cache.js'
import { compileRedaction } from '../../src/session/redaction.js'

const redaction = compileRedaction()
const SECRET = `sk-ant-${'a1B2c3D4'.repeat(6)}`

/** A deterministic generator, so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
}

function messageOf(next: () => number, i: number): Message {
  const pick = Math.floor(next() * 5)
  const secret = next() < 0.1 ? ` key ${SECRET}` : ''
  const blocks: ContentBlock[][] = [
    [{ type: 'text', text: `user says ${i}${secret}` }],
    [
      { type: 'text', text: `  calling a tool ${i}\r\n\n` },
      { type: 'tool_use', id: `t${i}`, name: 'Read', input: { path: `f${i}${secret}`, all: false } },
    ],
    [
      {
        type: 'tool_result',
        toolUseId: `t${i}`,
        output: `line\n${'x'.repeat(i % 7)}${secret}`,
        isError: false,
      },
    ],
    [{ type: 'thinking', text: `thinking ${i}`, signature: `sig${i}` }],
    // Projects to nothing: still a node, and still cached.
    [{ type: 'text', text: '   ' }],
  ]
  return { role: pick % 2 ? 'assistant' : 'user', content: blocks[pick]! }
}

interface Request {
  system: ContentBlock[]
  messages: Message[]
}

/** A sequence of requests as clients send them: mostly growing, sometimes edited, re-prompted or branched. */
function requests(seed: number, count: number): Request[] {
  const next = random(seed)
  const out: Request[] = []
  let system: ContentBlock[] = [{ type: 'text', text: 'You are a coding agent.' }]
  let messages: Message[] = [messageOf(next, 0)]
  for (let i = 1; i < count; i++) {
    const roll = next()
    if (roll < 0.1 && messages.length > 1) {
      // An edit in the middle: a later turn resends a changed earlier message.
      const at = Math.floor(next() * messages.length)
      messages = messages.map((m, j) =>
        j === at ? { ...m, content: [{ type: 'text', text: `edited ${i}` }] } : m,
      )
    } else if (roll < 0.15) {
      system = next() < 0.3 ? [] : [{ type: 'text', text: `You are agent ${i}.` }]
    } else if (roll < 0.25 && messages.length > 2) {
      // A branch: another continuation of an earlier prefix.
      messages = messages.slice(0, 1 + Math.floor(next() * (messages.length - 1)))
    }
    messages = [...messages, messageOf(next, i)]
    out.push({ system, messages })
  }
  return out
}

/** Parsed anew each turn, as a worker does: equal content, never the same objects. */
const reparsed = (request: Request): Request => structuredClone(request)

describe('requestChain with a node cache', () => {
  it.each([
    ['roomy', 1 << 24],
    ['evicting', 4096],
  ])('builds the chains an uncached build does (%s budget)', (_name, budget) => {
    let reusedRedactions = 0
    for (let seed = 1; seed <= 40; seed++) {
      const cache = new NodeCache(budget)
      for (const request of requests(seed, 60)) {
        const plainRedactor = redaction.redactor()
        const plain = requestChain(reparsed(request), plainRedactor, null)
        const cachedRedactor = redaction.redactor()
        const cached = requestChain(reparsed(request), cachedRedactor, cache)
        expect(JSON.stringify(cached.nodes)).toBe(JSON.stringify(plain.nodes))
        expect(cached.systemCount).toBe(plain.systemCount)
        expect(cached.messages).toEqual(plain.messages)
        expect(cached.system).toEqual(plain.system)
        expect(cachedRedactor.count + cached.reusedRedactions).toBe(plainRedactor.count)
        reusedRedactions += cached.reusedRedactions
      }
      const stats = cache.stats()
      expect(stats.hits).toBeGreaterThan(0)
      expect(stats.bytes).toBeLessThanOrEqual(budget)
      if (budget === 4096) expect(stats.evictions).toBeGreaterThan(0)
    }
    // Hits on redacted messages happened, so the counts above compared something.
    expect(reusedRedactions).toBeGreaterThan(0)
  })

  it('hashes a resent history only once', () => {
    const cache = new NodeCache(1 << 20)
    const [first, second] = [0, 1].map((i) => ({
      system: [],
      messages: Array.from({ length: 3 + i }, (_, j) => messageOf(random(j + 1), j)),
    }))
    requestChain(first!, null, cache)
    requestChain(second!, null, cache)
    expect(cache.stats()).toMatchObject({ hits: 4, misses: 5, entries: 5 })
  })

  it('does not reuse a node whose parent changed (an edit earlier in the history)', () => {
    const cache = new NodeCache(1 << 20)
    const tail: Message = { role: 'user', content: [{ type: 'text', text: 'same words' }] }
    const a = requestChain({ system: [], messages: [messageOf(random(1), 1), tail] }, null, cache)
    const b = requestChain({ system: [], messages: [messageOf(random(2), 2), tail] }, null, cache)
    expect(b.nodes[1]!.hash).not.toBe(a.nodes[1]!.hash)
    expect(b.nodes[1]!.parentHash).toBe(b.nodes[0]!.hash)
  })

  it('keeps the redacted form and its count for every turn that reuses it', () => {
    const cache = new NodeCache(1 << 20)
    const message: Message = { role: 'user', content: [{ type: 'text', text: `use ${SECRET}` }] }
    for (let turn = 0; turn < 2; turn++) {
      const redactor = redaction.redactor()
      const chain = requestChain({ system: [], messages: [structuredClone(message)] }, redactor, cache)
      expect(chain.messages[0]!.content).toEqual([{ type: 'text', text: 'use [REDACTED:anthropic_key]' }])
      expect(redactor.count + chain.reusedRedactions).toBe(1)
      expect(JSON.stringify(chain.nodes)).not.toContain(SECRET)
    }
    // The empty system prompt and the message.
    expect(cache.stats().hits).toBe(2)
  })
})

describe('NodeCache', () => {
  const node = (hash: string) => ({
    hash,
    content: { type: 'message' as const, role: 'user', content: [] },
    redactions: 0,
    redacted: null,
  })

  it('evicts the least recently used entries past its budget, and counts them', () => {
    const cache = new NodeCache(300)
    cache.set('a', node('a'), 100)
    cache.set('b', node('b'), 100)
    cache.set('c', node('c'), 100)
    cache.get('a')
    cache.set('d', node('d'), 100)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')?.hash).toBe('a')
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 300, evictions: 1 })
  })

  it('keeps nothing larger than its whole budget', () => {
    const cache = new NodeCache(100)
    cache.set('big', node('big'), 101)
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 })
  })

  it('replaces an entry set twice without counting its bytes twice', () => {
    const cache = new NodeCache(1000)
    cache.set('a', node('a'), 100)
    cache.set('a', node('a'), 150)
    expect(cache.stats()).toMatchObject({ entries: 1, bytes: 150 })
  })
})
