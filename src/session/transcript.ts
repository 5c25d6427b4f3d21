/**
 * A session's conversation as people read it: the message tree rebuilt from the content-addressed
 * nodes on its turns' chains, as branches (a fork adds a branch holding only what comes after the
 * shared prefix). Pure: the store reads the rows (store/read/transcript.ts), this builds the tree.
 */

/** One stored block as hashed (src/session/projection.ts): `type` plus its fields. */
export type TranscriptBlock = { type: string } & Record<string, unknown>

export interface TranscriptMessage {
  hash: string
  parentHash: string | null
  role: string
  /** Empty when the sidecar ran with content storage off. */
  blocks: TranscriptBlock[]
  contentStored: boolean
  /** Turns whose response is this message. */
  responseOf: number[]
  /** Turns whose request ended with this message (a turn without a response ends here). */
  requestOf: number[]
}

export interface TranscriptBranch {
  /** 0-based, in order of the first turn that reached the branch. */
  index: number
  /** The branch this one forks from; null for a conversation of its own (a new root). */
  forkOf: number | null
  /** The last message shared with forkOf (the fork point); null for a root branch. */
  forkAfterHash: string | null
  /** The messages after the fork point, root- or fork-first to leaf. */
  messages: TranscriptMessage[]
  /** The first message's parent is not stored (content deleted, or written by a lost transaction). */
  missingParentHash: string | null
}

export interface Transcript {
  sessionId: string
  /**
   * The message tree as branches: the first is the conversation as first seen; every fork (two
   * turns whose chains diverge) adds a branch holding only the messages after the shared prefix.
   */
  branches: TranscriptBranch[]
  /** Turns that recorded no messages at all (an unparsable request). */
  turnsWithoutMessages: number[]
}

function blocksOf(content: unknown): { blocks: TranscriptBlock[]; stored: boolean } {
  const inner = (content as { content?: unknown } | null)?.content
  if (!Array.isArray(inner)) return { blocks: [], stored: content !== null && content !== undefined }
  const blocks = inner.filter(
    (block): block is TranscriptBlock =>
      typeof block === 'object' && block !== null && typeof (block as { type?: unknown }).type === 'string',
  )
  return { blocks, stored: true }
}

export interface TranscriptTurnInput {
  turnIndex: number
  requestLeafHash: string | null
  responseHash: string | null
  /** All choices' response nodes when there were several (the first is responseHash). */
  choiceHashes?: string[] | null
}

export interface TranscriptNodeInput {
  hash: string
  parentHash: string | null
  role: string
  content: unknown
}

/**
 * Builds the branches from turns (in turn_index order) and the nodes on their chains. Each message
 * is ordered by the first turn that reached it; walking the tree from the roots, a node's earliest
 * child continues the branch and each later child starts a new branch forking after it.
 */
export function buildTranscript(
  sessionId: string,
  turns: readonly TranscriptTurnInput[],
  nodes: readonly TranscriptNodeInput[],
): Transcript {
  const byHash = new Map(nodes.map((node) => [node.hash, node]))
  const messages = new Map<string, TranscriptMessage>()
  for (const node of nodes) {
    const { blocks, stored } = blocksOf(node.content)
    messages.set(node.hash, {
      hash: node.hash,
      parentHash: node.parentHash,
      role: node.role,
      blocks,
      contentStored: stored,
      responseOf: [],
      requestOf: [],
    })
  }
  // firstTurn: the lowest turn index whose chain contains the node. Turns come in index order, so
  // a walk up stops at the first node an earlier turn already claimed (its ancestors are claimed too).
  // claimOrder breaks ties within a turn: its answer before its other choices.
  const firstTurn = new Map<string, number>()
  const claimOrder = new Map<string, number>()
  const turnsWithoutMessages: number[] = []
  for (const turn of turns) {
    const choices = turn.choiceHashes ?? (turn.responseHash ? [turn.responseHash] : [])
    for (const hash of new Set(choices)) messages.get(hash)?.responseOf.push(turn.turnIndex)
    if (turn.requestLeafHash) messages.get(turn.requestLeafHash)?.requestOf.push(turn.turnIndex)
    if (!turn.responseHash && !turn.requestLeafHash) turnsWithoutMessages.push(turn.turnIndex)
    // From the request leaf too: the response node may be the one that is not stored.
    for (const leaf of [turn.responseHash, turn.requestLeafHash, ...choices]) {
      for (
        let hash = leaf;
        hash && byHash.has(hash) && !firstTurn.has(hash);
        hash = byHash.get(hash)!.parentHash
      ) {
        firstTurn.set(hash, turn.turnIndex)
        claimOrder.set(hash, claimOrder.size)
      }
    }
  }
  const order = (a: string, b: string): number =>
    (firstTurn.get(a) ?? 0) - (firstTurn.get(b) ?? 0) || (claimOrder.get(a) ?? 0) - (claimOrder.get(b) ?? 0)
  const children = new Map<string, string[]>()
  const roots: string[] = []
  for (const hash of firstTurn.keys()) {
    const parent = byHash.get(hash)!.parentHash
    if (parent && firstTurn.has(parent)) {
      const list = children.get(parent) ?? []
      list.push(hash)
      children.set(parent, list)
    } else roots.push(hash)
  }
  for (const list of children.values()) list.sort(order)

  // Pending branch starts, kept in first-turn order so branch numbers follow the conversation.
  const pending: Array<{ start: string; forkOf: number | null; forkAfter: string | null }> = roots
    .sort(order)
    .map((start) => ({ start, forkOf: null, forkAfter: null }))
  const branches: TranscriptBranch[] = []
  while (pending.length > 0) {
    pending.sort((a, b) => order(a.start, b.start))
    const { start, forkOf, forkAfter } = pending.shift()!
    const index = branches.length
    const parentHash = byHash.get(start)!.parentHash
    const branch: TranscriptBranch = {
      index,
      forkOf,
      forkAfterHash: forkAfter,
      messages: [],
      missingParentHash: forkAfter === null && parentHash !== null ? parentHash : null,
    }
    for (let hash: string | undefined = start; hash; ) {
      branch.messages.push(messages.get(hash)!)
      const next: string[] = children.get(hash) ?? []
      for (const other of next.slice(1)) pending.push({ start: other, forkOf: index, forkAfter: hash })
      hash = next[0]
    }
    branches.push(branch)
  }
  return { sessionId, branches, turnsWithoutMessages }
}
