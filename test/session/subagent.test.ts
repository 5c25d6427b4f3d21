/**
 * The content link between a parent call and its subagent: the prompt of a SUBAGENT_TOOLS call in
 * the parent's response hashes like the subagent's first user message. Hand-written fixture, then
 * the recorded Claude Code session (turn 9 asks for the subagent of turns 10-11).
 */
import { describe, expect, it } from 'vitest'
import type { ContentBlock, Message } from '../../src/providers/types.js'
import { SUBAGENT_TOOLS } from '../../src/session/harness.js'
import { promptHash, subagentSpawns, taskPromptHash } from '../../src/session/subagent.js'
import { CORPUS_PRESENT, noteCorpusSkip } from '../helpers/corpus.js'
import { corpusCall, fixtureCalls } from '../helpers/subagent-calls.js'

const text = (t: string): ContentBlock => ({ type: 'text', text: t })
const agentCall = (id: string, input: unknown, name = 'Agent'): ContentBlock => ({
  type: 'tool_use',
  id,
  name,
  input,
})
const user = (...content: ContentBlock[]): Message => ({ role: 'user', content })

describe('subagent prompt hashes', () => {
  it('has one SUBAGENT_TOOLS row per tool name and harness', () => {
    const keys = SUBAGENT_TOOLS.map((row) => `${row.harnessId}/${row.toolName}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(keys).toEqual(['claude/Agent', 'claude/Task'])
  })

  it('hashes the prompt of Agent and Task calls, not of other tools or harnesses', () => {
    const blocks = [
      text('Asking two agents.'),
      agentCall('toolu_a', { prompt: 'Find the widget.' }),
      agentCall('toolu_t', { prompt: 'Count the lines.' }, 'Task'),
      agentCall('toolu_b', { command: 'ls' }, 'Bash'),
      agentCall('toolu_e', { prompt: '   ' }),
      agentCall('toolu_n', { prompt: 42 }),
      agentCall('not a thread id', { prompt: 'Find the widget.' }),
    ]
    expect(subagentSpawns('claude', blocks)).toEqual([
      { toolUseId: 'toolu_a', promptHash: promptHash('Find the widget.') },
      { toolUseId: 'toolu_t', promptHash: promptHash('Count the lines.') },
    ])
    expect(subagentSpawns('codex', blocks)).toEqual([])
  })

  it('reads the task prompt from the first user message, harness tags and blank blocks left out', () => {
    const expected = promptHash('Find the widget.')
    expect(
      taskPromptHash('claude', [
        user(text('<system-reminder>\nnoise\n</system-reminder>\n'), text('Find the widget.')),
      ]),
    ).toBe(expected)
    expect(taskPromptHash('claude', [user(text('  Find the widget.\n'))])).toBe(expected)
    // Another harness never looks for a parent, nor does a call that opens with anything but text.
    expect(taskPromptHash('codex', [user(text('Find the widget.'))])).toBeNull()
    expect(taskPromptHash('claude', [{ role: 'assistant', content: [text('Find the widget.')] }])).toBeNull()
    expect(
      taskPromptHash('claude', [user({ type: 'tool_result', toolUseId: 'x', output: 'y', isError: false })]),
    ).toBeNull()
    expect(taskPromptHash('claude', [])).toBeNull()
  })

  it('links the hand-written fixture: the parent spawns, the child opens with the same prompt', () => {
    const { parent, child } = fixtureCalls({})
    expect(parent.subagentSpawns).toEqual([
      { toolUseId: 'toolu_01SpawnFixture', promptHash: child.taskPromptHash },
    ])
    expect(child.taskPromptHash).not.toBeNull()
    expect(parent.taskPromptHash).not.toBe(child.taskPromptHash)
    expect(child.subagentSpawns).toBeNull()
  })
})

noteCorpusSkip('subagent prompt hashes of the recorded Claude Code session')

describe.skipIf(!CORPUS_PRESENT)('the recorded Claude Code session', () => {
  it('turn 9 asks for the subagent whose prompt opens turns 10 and 11, and only those', () => {
    const calls = Array.from({ length: 17 }, (_, i) => corpusCall(i + 1, 'all'))
    const spawns = calls.flatMap((turn, i) =>
      (turn.subagentSpawns ?? []).map((spawn) => ({ call: i + 1, spawn })),
    )
    expect(spawns.map(({ call, spawn }) => [call, spawn.toolUseId])).toEqual([
      [9, 'toolu_011RUXHcaTksPqotauxQ3Ko2'],
    ])
    const prompt = spawns[0]!.spawn.promptHash
    expect(calls.flatMap((turn, i) => (turn.taskPromptHash === prompt ? [i + 1] : []))).toEqual([10, 11])
  })
})
