/** loopHash: the same agent step hashes alike whatever its call ids; anything else asked differs. */
import { describe, expect, it } from 'vitest'
import { loopHash } from '../../src/loop/loop-hash.js'
import type { Message } from '../../src/providers/types.js'

/** One step of an agent that reads a file: the assistant calls the tool, the tool answers. */
function step(callId: string, path = 'a.txt', output = 'contents'): Message[] {
  return [
    { role: 'assistant', content: [{ type: 'tool_use', id: callId, name: 'read', input: { path } }] },
    {
      role: 'user',
      content: [{ type: 'tool_result', toolUseId: callId, output, isError: false }],
    },
  ]
}
const opening: Message[] = [{ role: 'user', content: [{ type: 'text', text: 'fix the bug' }] }]

describe('loopHash', () => {
  it('is the same for the same step repeated with new call ids and a longer history', () => {
    const first = loopHash({ messages: [...opening, ...step('call_1')] })
    const again = loopHash({ messages: [...opening, ...step('call_1'), ...step('call_2')] })
    expect(first).toMatch(/^[0-9a-f]{64}$/)
    expect(again).toBe(first)
  })

  it('differs when the tool input, the tool output or the user text differs', () => {
    const base = loopHash({ messages: [...opening, ...step('c')] })
    expect(loopHash({ messages: [...opening, ...step('c', 'b.txt')] })).not.toBe(base)
    expect(loopHash({ messages: [...opening, ...step('c', 'a.txt', 'changed')] })).not.toBe(base)
    expect(loopHash({ messages: opening })).not.toBe(
      loopHash({ messages: [{ role: 'user', content: [{ type: 'text', text: 'other' }] }] }),
    )
  })

  it('takes every message after the last assistant message (OpenAI sends one tool message per call)', () => {
    const tools = (second: string): Message[] => [
      ...opening,
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'x', name: 'read', input: { path: 'a' } },
          { type: 'tool_use', id: 'y', name: 'read', input: { path: 'b' } },
        ],
      },
      { role: 'tool', content: [{ type: 'tool_result', toolUseId: 'x', output: 'A', isError: false }] },
      { role: 'tool', content: [{ type: 'tool_result', toolUseId: 'y', output: second, isError: false }] },
    ]
    expect(loopHash({ messages: tools('B') })).not.toBe(loopHash({ messages: tools('C') }))
  })

  it('is null when the request carries no input and no tool calls', () => {
    expect(loopHash({ messages: [] })).toBeNull()
    expect(loopHash({ messages: [{ role: 'user', content: [{ type: 'text', text: '   ' }] }] })).toBeNull()
  })
})
