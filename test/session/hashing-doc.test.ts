/** Executes the test vectors of docs/hashing.md, so the document and the code cannot disagree. */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { ContentBlock, Message } from '../../src/providers/types.js'
import { buildChain } from '../../src/session/chain.js'
import { parsedRequest, parsedResponse } from './fixtures.js'

const canonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string

const blocks = z
  .array(z.record(z.string(), z.unknown()))
  .transform((value) => value as unknown as ContentBlock[])
const message = z.object({ role: z.enum(['system', 'user', 'assistant', 'tool']), content: blocks })
const vector = z.strictObject({
  name: z.string(),
  system: blocks.optional(),
  messages: z.array(message),
  response: message.optional(),
  canonical: z.string().optional(),
  hashes: z.array(z.string().regex(/^[0-9a-f]{64}$/)).min(1),
  syntheticId: z.string().optional(),
})

const doc = readFileSync(new URL('../../docs/hashing.md', import.meta.url), 'utf8')
const vectors = [...doc.matchAll(/```hash-vector\n([\s\S]*?)```/g)].map((match) =>
  vector.parse(JSON.parse(match[1]!)),
)

describe('docs/hashing.md test vectors', () => {
  it('the document carries vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(10)
  })

  it.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const chain = buildChain(
      parsedRequest({ system: v.system ?? [], messages: v.messages as Message[] }),
      v.response ? parsedResponse(v.response as Message) : null,
    )
    expect(chain.nodes.map((node) => node.hash)).toEqual(v.hashes)
    if (v.canonical !== undefined) {
      const root = chain.nodes[0]!
      const bytes = canonicalize({ parent: '', content: root.content })
      expect(bytes).toBe(v.canonical)
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(root.hash)
    }
    if (v.syntheticId !== undefined) expect(chain.conversationHash?.slice(0, 16)).toBe(v.syntheticId)
  })
})
