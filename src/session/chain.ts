/**
 * The content-addressed message chain of one turn: system prompt, request messages, response, each
 * a node whose SHA-256 commits to its projected content and to its parent's hash (docs/hashing.md).
 */
import { hash } from 'node:crypto'
import type { ContentBlock, ParsedRequest, ParsedResponse } from '../providers/types.js'
import { canonicalJson } from './canonical-json.js'
import {
  type ProjectedBlock,
  type ProjectedMessage,
  projectBlocks,
  projectMessage,
  projectSystem,
} from './projection.js'
import type { ChainNode } from './turn.js'

export interface ChainResult {
  /** Root first, parent before child: [system], request messages, [response], [other choices]. */
  nodes: ChainNode[]
  /** The first node: the system prompt, or the first message when there is no system prompt. */
  rootHash: string | null
  /**
   * The first conversation message's node (the root when there is no system prompt). It commits to
   * the system prompt and the first message: the seed of synthetic session ids.
   */
  conversationHash: string | null
  requestLeafHash: string | null
  responseHash: string | null
  /**
   * Every choice's node in index order (the first is responseHash), each a child of the request
   * leaf; null when the response has one choice or none.
   */
  choiceHashes: string[] | null
}

/** Hashes an already projected node body under a parent: sha256 of RFC 8785 JSON, lowercase hex. */
export function hashProjected(parentHash: string | null, content: ProjectedMessage): string {
  // One-shot hash: no Hash object per node (strings are hashed as UTF-8).
  return hash('sha256', canonicalJson({ parent: parentHash ?? '', content }), 'hex')
}

function nodeOf(parentHash: string | null, role: string, blocks: ProjectedBlock[]): ChainNode {
  const content: ProjectedMessage = { type: 'message', role, content: blocks }
  return { hash: hashProjected(parentHash, content), parentHash, role, content }
}

/** Projects and hashes one message under a parent. */
export function hashNode(
  parentHash: string | null,
  role: string,
  blocks: readonly ContentBlock[],
): { hash: string; content: ProjectedMessage } {
  const content = projectMessage(role, blocks)
  return { hash: hashProjected(parentHash, content), content }
}

export function buildChain(request: ParsedRequest, response: ParsedResponse | null): ChainResult {
  const nodes: ChainNode[] = []
  const append = (role: string, blocks: ProjectedBlock[]): ChainNode => {
    const node = nodeOf(nodes.at(-1)?.hash ?? null, role, blocks)
    nodes.push(node)
    return node
  }

  // A system prompt that projects to nothing counts as none, so the first message becomes the root.
  const system = projectSystem(request.system)
  if (system.length > 0) append('system', system)
  const systemCount = nodes.length
  for (const message of request.messages) append(message.role, projectBlocks(message.content))
  const requestLeafHash = nodes.at(-1)?.hash ?? null
  const conversationHash = (nodes[systemCount] ?? nodes[0])?.hash ?? null

  // An answer with empty content (all tokens spent on hidden reasoning) is still a node.
  const responseMessage = response?.message ?? null
  const responseHash = responseMessage
    ? append(responseMessage.role, projectBlocks(responseMessage.content)).hash
    : null
  let choiceHashes: string[] | null = null
  if (responseHash !== null && response?.alternatives?.length) {
    choiceHashes = [responseHash]
    for (const alternative of response.alternatives) {
      const node = nodeOf(requestLeafHash, alternative.role, projectBlocks(alternative.content))
      // Two choices can say the same thing: one node, listed twice.
      if (!nodes.some((n) => n.hash === node.hash)) nodes.push(node)
      choiceHashes.push(node.hash)
    }
  }

  return {
    nodes,
    rootHash: nodes[0]?.hash ?? null,
    conversationHash,
    requestLeafHash,
    responseHash,
    choiceHashes,
  }
}
