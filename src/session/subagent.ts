/**
 * Subagent links found in content, for harnesses that send a subagent's calls without a header
 * naming its thread: the parent's response asks for a subagent with a tool call (Claude Code's
 * `Agent`, formerly `Task`) whose input holds the task prompt, and the subagent's first user message
 * is that prompt. Both sides are reduced to the same prompt hash; the store matches them
 * (src/store/subagent-threads.ts).
 */
import { hash } from 'node:crypto'
import type { ContentBlock, Message } from '../providers/types.js'
import { SUBAGENT_TOOLS } from './harness.js'
import { stripHarnessTags } from './harness-tags.js'
import { checkIdentifier } from './identifiers.js'

/** A subagent the parent's response asked for: the tool call's id and its prompt's hash. */
export interface SubagentSpawn {
  toolUseId: string
  promptHash: string
}

/** Prompt text as both sides compare it: harness tags removed, outer white space trimmed. */
function normalizedPrompt(text: string): string {
  return stripHarnessTags(text).trim()
}

/** sha256 of the normalized prompt, lowercase hex; null for a prompt that normalizes to nothing. */
export function promptHash(text: string): string | null {
  const prompt = normalizedPrompt(text)
  return prompt === '' ? null : hash('sha256', `subagent-prompt\n${prompt}`, 'hex')
}

/** The subagent calls a response's blocks ask for, under the harness's SUBAGENT_TOOLS rows. */
export function subagentSpawns(harnessId: string, blocks: readonly ContentBlock[]): SubagentSpawn[] {
  const tools = SUBAGENT_TOOLS.filter((row) => row.harnessId === harnessId)
  if (tools.length === 0) return []
  const spawns: SubagentSpawn[] = []
  for (const block of blocks) {
    if (block.type !== 'tool_use') continue
    const tool = tools.find((row) => row.toolName === block.name)
    const input = block.input
    if (tool === undefined || typeof input !== 'object' || input === null) continue
    const prompt = (input as Record<string, unknown>)[tool.promptField]
    const promptDigest = typeof prompt === 'string' ? promptHash(prompt) : null
    // The tool call's id becomes a thread id, so it must be a valid identifier.
    if (promptDigest !== null && checkIdentifier(block.id).ok)
      spawns.push({ toolUseId: block.id, promptHash: promptDigest })
  }
  return spawns
}

/**
 * The hash of the task a call opens with: the text of its first message when that is a user
 * message of text only (harness tags removed, blocks joined by a newline); null otherwise. Only a
 * harness with SUBAGENT_TOOLS rows gets one, so other traffic never looks for a parent.
 */
export function taskPromptHash(harnessId: string, messages: readonly Message[]): string | null {
  if (!SUBAGENT_TOOLS.some((row) => row.harnessId === harnessId)) return null
  const first = messages[0]
  if (first === undefined || first.role !== 'user') return null
  const texts: string[] = []
  for (const block of first.content) {
    if (block.type !== 'text') return null
    const text = normalizedPrompt(block.text)
    if (text !== '') texts.push(text)
  }
  return texts.length === 0 ? null : promptHash(texts.join('\n'))
}
