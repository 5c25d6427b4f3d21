import { describe, expect, it } from 'vitest'
import { buildChain, hashNode } from '../../src/session/chain.js'
import { assistant, parsedRequest, parsedResponse, user } from './fixtures.js'

const system = [{ type: 'text' as const, text: 'You are terse.' }]

describe('buildChain', () => {
  it('links system, request messages and response parent to child', () => {
    const chain = buildChain(
      parsedRequest({ system, messages: [user('a'), assistant('b'), user('c')] }),
      parsedResponse(assistant('d')),
    )
    expect(chain.nodes.map((node) => node.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant'])
    expect(chain.nodes[0]!.parentHash).toBeNull()
    chain.nodes.slice(1).forEach((node, i) => {
      expect(node.parentHash).toBe(chain.nodes[i]!.hash)
    })
    expect(chain.rootHash).toBe(chain.nodes[0]!.hash)
    expect(chain.conversationHash).toBe(chain.nodes[1]!.hash)
    expect(chain.requestLeafHash).toBe(chain.nodes[3]!.hash)
    expect(chain.responseHash).toBe(chain.nodes[4]!.hash)
    expect(chain.nodes[4]!.content).toEqual({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'd', is_error: false }],
    })
  })

  it('re-creates the previous turn, response included, when the history is re-sent', () => {
    const first = buildChain(parsedRequest({ system, messages: [user('a')] }), parsedResponse(assistant('b')))
    const second = buildChain(
      parsedRequest({ system, messages: [user('a'), assistant('b'), user('c')] }),
      null,
    )
    expect(second.nodes.slice(0, 3).map((n) => n.hash)).toEqual(first.nodes.map((n) => n.hash))
  })

  it('makes the first message the root when the system prompt is absent or projects to nothing', () => {
    const bare = buildChain(parsedRequest({ messages: [user('a')] }), null)
    const noise = buildChain(
      parsedRequest({
        system: [{ type: 'text', text: 'x-anthropic-billing-header: cc_version=1;' }],
        messages: [user('a')],
      }),
      null,
    )
    expect(bare.nodes).toHaveLength(1)
    expect(noise.rootHash).toBe(bare.rootHash)
    expect(bare.conversationHash).toBe(bare.rootHash)
  })

  it('commits the conversation hash to both the system prompt and the first message', () => {
    const base = buildChain(parsedRequest({ system, messages: [user('a')] }), null).conversationHash
    const otherSystem = buildChain(
      parsedRequest({ system: [{ type: 'text', text: 'You are verbose.' }], messages: [user('a')] }),
      null,
    ).conversationHash
    const otherFirst = buildChain(parsedRequest({ system, messages: [user('b')] }), null).conversationHash
    expect(new Set([base, otherSystem, otherFirst]).size).toBe(3)
  })

  it('keeps a message whose blocks all drop as a node with empty content', () => {
    const chain = buildChain(
      parsedRequest({ messages: [user('<system-reminder>x</system-reminder>'), user('real')] }),
      null,
    )
    expect(chain.nodes).toHaveLength(2)
    expect(chain.nodes[0]!.content).toEqual({ type: 'message', role: 'user', content: [] })
  })

  it('has no response node for a failed call and roots a lone response', () => {
    const failed = buildChain(parsedRequest({ messages: [user('a')] }), parsedResponse(null))
    expect(failed.responseHash).toBeNull()
    expect(failed.nodes).toHaveLength(1)
    const lone = buildChain(parsedRequest({}), parsedResponse(assistant('b')))
    expect(lone.rootHash).toBe(lone.responseHash)
    expect(lone.conversationHash).toBeNull()
    expect(lone.requestLeafHash).toBeNull()
  })
})

describe('hashNode', () => {
  it('depends on the parent, the role and the projected content only', () => {
    const a = hashNode(null, 'user', [{ type: 'text', text: 'hi' }])
    expect(hashNode(null, 'user', [{ type: 'text', text: '  hi\n' }]).hash).toBe(a.hash)
    expect(hashNode(null, 'assistant', [{ type: 'text', text: 'hi' }]).hash).not.toBe(a.hash)
    expect(hashNode(a.hash, 'user', [{ type: 'text', text: 'hi' }]).hash).not.toBe(a.hash)
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('buildChain with several choices', () => {
  it('makes every choice a child of the request leaf and lists them in index order', () => {
    const response = {
      ...parsedResponse(assistant('one')),
      alternatives: [assistant('two'), assistant('one')],
    }
    const chain = buildChain(parsedRequest({ messages: [user('q')] }), response)
    const leaf = chain.requestLeafHash
    expect(chain.choiceHashes).toHaveLength(3)
    expect(chain.choiceHashes![0]).toBe(chain.responseHash)
    // A choice that says what the first said is the same node, listed twice but stored once.
    expect(chain.choiceHashes![2]).toBe(chain.responseHash)
    expect(chain.nodes.map((n) => n.parentHash)).toEqual([null, leaf, leaf])
    expect(chain.nodes[2]!.hash).toBe(chain.choiceHashes![1])
  })

  it('has no choice list with one choice, and an empty answer is still a node', () => {
    const chain = buildChain(
      parsedRequest({ messages: [user('q')] }),
      parsedResponse({ role: 'assistant', content: [] }),
    )
    expect(chain.choiceHashes).toBeNull()
    expect(chain.responseHash).not.toBeNull()
    expect(chain.nodes.at(-1)!.content).toEqual({ type: 'message', role: 'assistant', content: [] })
  })
})
