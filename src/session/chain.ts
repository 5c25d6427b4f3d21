/**
 * The content-addressed message chain of one turn: system prompt, request messages, response, each
 * a node whose SHA-256 commits to its projected content and to its parent's hash (docs/hashing.md).
 */
import { hash } from 'node:crypto'
import type { ContentBlock, Message, ParsedRequest, ParsedResponse } from '../providers/types.js'
import { canonicalJson } from './canonical-json.js'
import type { NodeCache } from './node-cache.js'
import {
  type ProjectedBlock,
  type ProjectedMessage,
  projectBlocks,
  projectMessage,
  projectSystem,
} from './projection.js'
import type { Redactor } from './redaction.js'
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

/** The request part of a chain, and the request's system prompt and messages as they were hashed. */
export interface RequestChain {
  /** [system], request messages. */
  nodes: ChainNode[]
  /** 1 when the system prompt is a node, else 0. */
  systemCount: number
  /** The request's system prompt and messages, redacted when a redactor was given. */
  system: ContentBlock[]
  messages: Message[]
  /** Credentials the cache's hits stand for: the redactor counted only the items it redacted. */
  reusedRedactions: number
}

/**
 * The exact identity of a request item under its parent: JSON.stringify is injective on the JSON data
 * parsers produce, and the item's projection depends on nothing else, so equal keys (SHA-256 of that
 * text, next to the parent hash and the kind) mean equal nodes. Never a false hit short of a SHA-256
 * collision, which would break the chain's own hashes first.
 */
function cacheKey(parentHash: string | null, kind: string, source: string): string {
  return `${parentHash ?? ''}:${kind}:${hash('sha256', source, 'hex')}`
}

/** Cached bodies are shared by every turn that hits them: nothing may change them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const member of Object.values(value)) deepFreeze(member)
    Object.freeze(value)
  }
  return value
}

/** Rough heap bytes of an entry: its key and item text as UTF-16, twice over for the objects built from them. */
const entryBytes = (key: string, source: string, redactedCopy: boolean) =>
  2 * key.length + (redactedCopy ? 8 : 4) * source.length

/**
 * Redacts, projects and hashes the system prompt and the messages of a request, in order. With a
 * cache, an item seen before under the same parent is taken from it instead: a resent history costs
 * a JSON.stringify and a SHA-256 per message, no redaction, projection or canonical JSON.
 */
export function requestChain(
  request: Pick<ParsedRequest, 'system' | 'messages'>,
  redactor: Redactor | null = null,
  cache: NodeCache | null = null,
): RequestChain {
  const nodes: ChainNode[] = []
  let reusedRedactions = 0
  // Builds (or takes from the cache) the node of one item and returns the item as it was hashed.
  const item = <T extends Message | ContentBlock[]>(
    kind: string,
    value: T,
    project: (v: T) => ProjectedMessage,
  ): T => {
    const parentHash = nodes.at(-1)?.hash ?? null
    const source = cache ? JSON.stringify(value) : ''
    const key = cache ? cacheKey(parentHash, kind, source) : ''
    let cached = cache?.get(key)
    if (cached) reusedRedactions += cached.redactions
    else {
      const before = redactor?.count ?? 0
      const redacted = redactor ? redactor.deep(value) : value
      const content = project(redacted)
      cached = {
        hash: hashProjected(parentHash, content),
        content,
        redactions: (redactor?.count ?? 0) - before,
        redacted: redacted === value ? null : redacted,
      }
      if (cache) cache.set(key, deepFreeze(cached), entryBytes(key, source, cached.redacted !== null))
    }
    const { hash: nodeHash, content } = cached
    // A system prompt that projects to nothing counts as none, so the first message becomes the root.
    if (kind !== 'system' || content.content.length > 0)
      nodes.push({ hash: nodeHash, parentHash, role: content.role, content })
    return (cached.redacted as T | null) ?? value
  }
  const system = item('system', request.system, (blocks) => ({
    type: 'message',
    role: 'system',
    content: projectSystem(blocks),
  }))
  const systemCount = nodes.length
  const messages = request.messages.map((message) =>
    item('message', message, (m) => projectMessage(m.role, m.content)),
  )
  return { nodes, systemCount, system, messages, reusedRedactions }
}

export function buildChain(request: ParsedRequest, response: ParsedResponse | null): ChainResult {
  return completeChain(requestChain(request), response)
}

/** The whole chain: the request part, then the response and its other choices. */
export function completeChain(head: RequestChain, response: ParsedResponse | null): ChainResult {
  const nodes = [...head.nodes]
  const append = (role: string, blocks: ProjectedBlock[]): ChainNode => {
    const node = nodeOf(nodes.at(-1)?.hash ?? null, role, blocks)
    nodes.push(node)
    return node
  }
  const requestLeafHash = nodes.at(-1)?.hash ?? null
  const conversationHash = (nodes[head.systemCount] ?? nodes[0])?.hash ?? null

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
