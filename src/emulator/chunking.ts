/**
 * How the emulator cuts a body into the chunks Envoy would send. Envoy's chunks follow socket reads,
 * never application framing, so the random strategy deliberately cuts inside UTF-8 characters and
 * inside SSE's blank-line separators, makes 1-byte chunks, and sometimes ends with an empty chunk.
 */

/** A small seeded PRNG (mulberry32) so a failing chunking can be replayed from its seed. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Chunking = { kind: 'fixed'; size: number } | { kind: 'random'; seed: number; maxChunk?: number }

export interface ChunkPlan {
  chunks: Buffer[]
  /** True when the last chunk is an extra empty one (as a terminating zero-length DATA frame gives). */
  emptyFinal: boolean
}

export function chunkBody(body: Buffer, chunking: Chunking): ChunkPlan {
  if (chunking.kind === 'fixed') {
    const size = Math.max(1, chunking.size)
    const chunks: Buffer[] = []
    for (let at = 0; at < body.length; at += size) chunks.push(body.subarray(at, at + size))
    return { chunks, emptyFinal: false }
  }
  const random = createRandom(chunking.seed)
  const maxChunk = Math.max(1, chunking.maxChunk ?? 16 * 1024)
  const awkward = awkwardCuts(body, random)
  const chunks: Buffer[] = []
  let at = 0
  let nextAwkward = 0
  while (at < body.length) {
    const roll = random()
    let size =
      roll < 0.1 ? 1 : roll < 0.25 ? 1 + Math.floor(random() * 8) : 1 + Math.floor(random() * maxChunk)
    // Prefer an awkward cut when one lies within reach.
    while (nextAwkward < awkward.length && (awkward[nextAwkward] ?? 0) <= at) nextAwkward++
    const cut = awkward[nextAwkward]
    if (cut !== undefined && cut - at <= size && random() < 0.7) size = cut - at
    chunks.push(body.subarray(at, at + size))
    at += size
  }
  const emptyFinal = random() < 0.3
  if (emptyFinal) chunks.push(Buffer.alloc(0))
  return { chunks, emptyFinal }
}

/** Positions inside a multi-byte UTF-8 character or between the two newlines of "\n\n", sampled. */
function awkwardCuts(body: Buffer, random: () => number): number[] {
  const cuts: number[] = []
  const stride = Math.max(1, Math.floor(body.length / 4096))
  for (let i = 1; i < body.length; i += stride) {
    const b = body[i] ?? 0
    const inChar = b >= 0x80 && b <= 0xbf
    const inBlankLine = body[i - 1] === 0x0a && (b === 0x0a || b === 0x0d)
    if ((inChar || inBlankLine) && random() < 0.5) cuts.push(i)
  }
  return cuts
}
