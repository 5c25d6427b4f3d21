/**
 * Chain nodes already built, by prefix, so a turn that resends its history redacts, projects and
 * hashes only what is new (docs/hashing.md, "Node cache"). An LRU bounded by an estimate of the bytes
 * it holds; one per parse worker (per TurnBuildOptions object), so never shared between threads.
 */
import type { ContentBlock, Message } from '../providers/types.js'
import type { ProjectedMessage } from './projection.js'

/** What one request item (the system prompt or a message) became when it was first seen. */
export interface CachedNode {
  hash: string
  /** The projected node body; frozen, because every later turn that hits shares it. */
  content: ProjectedMessage
  /** Credentials the redactor replaced in the item: counted again on every hit, as without the cache. */
  redactions: number
  /** The redacted item, or null when redaction left it as it was (the common case: no copy kept). */
  redacted: Message | ContentBlock[] | null
}

export interface NodeCacheStats {
  entries: number
  /** The estimate the budget is checked against (NodeCache.set's `bytes`). */
  bytes: number
  budgetBytes: number
  hits: number
  misses: number
  evictions: number
}

export class NodeCache {
  // A Map iterates in insertion order: re-inserting on every hit keeps the oldest use first.
  readonly #entries = new Map<string, { node: CachedNode; bytes: number }>()
  #bytes = 0
  #hits = 0
  #misses = 0
  #evictions = 0

  constructor(readonly budgetBytes: number) {}

  get(key: string): CachedNode | undefined {
    const entry = this.#entries.get(key)
    if (!entry) {
      this.#misses++
      return undefined
    }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    this.#hits++
    return entry.node
  }

  /** Keeps `node` under `key`, evicting the least recently used entries past the budget. */
  set(key: string, node: CachedNode, bytes: number): void {
    if (bytes > this.budgetBytes) return
    this.#remove(key)
    this.#entries.set(key, { node, bytes })
    this.#bytes += bytes
    for (const oldest of this.#entries.keys()) {
      if (this.#bytes <= this.budgetBytes) break
      this.#remove(oldest)
      this.#evictions++
    }
  }

  stats(): NodeCacheStats {
    return {
      entries: this.#entries.size,
      bytes: this.#bytes,
      budgetBytes: this.budgetBytes,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
    }
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#entries.delete(key)
    this.#bytes -= entry.bytes
  }
}
