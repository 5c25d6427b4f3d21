/**
 * Content-block helpers shared by the API parsers: tool-argument decoding and an assembler that
 * merges streamed text/thinking deltas into blocks (parts joined once, never concatenated per delta).
 */
import { isRecord } from './shape.js'
import type { ContentBlock } from './types.js'

/** Fields only the API can read (search results' page contents, encrypted reasoning or compaction). */
const OPAQUE_FIELD = /^encrypted_/

/** The value with every `encrypted_*` field removed, at any depth. */
export function withoutOpaqueFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutOpaqueFields)
  if (!isRecord(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value))
    if (!OPAQUE_FIELD.test(key)) out[key] = withoutOpaqueFields(field)
  return out
}

/** Tool-call arguments arrive as JSON text; keep the raw string when it is not valid JSON. */
export function parseToolArguments(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

interface OpenRun {
  type: 'text' | 'thinking'
  parts: string[]
  signature?: string
}

/** Builds an assistant message's blocks in arrival order from deltas and whole blocks. */
export class BlockAssembler {
  private readonly blocks: ContentBlock[] = []
  private run: OpenRun | null = null

  text(delta: string | null | undefined): void {
    if (delta) this.append('text', delta)
  }

  thinking(delta: string | null | undefined): void {
    if (delta) this.append('thinking', delta)
  }

  /** Attaches a signature to the thinking run in progress, or opens an empty one to carry it. */
  thinkingSignature(signature: string): void {
    if (this.run?.type !== 'thinking') {
      this.close()
      this.run = { type: 'thinking', parts: [] }
    }
    this.run.signature = signature
  }

  block(block: ContentBlock): void {
    this.close()
    this.blocks.push(block)
  }

  get isEmpty(): boolean {
    return this.blocks.length === 0 && this.run === null
  }

  build(): ContentBlock[] {
    this.close()
    return this.blocks
  }

  private append(type: OpenRun['type'], delta: string): void {
    if (this.run?.type !== type) {
      this.close()
      this.run = { type, parts: [] }
    }
    this.run.parts.push(delta)
  }

  private close(): void {
    const run = this.run
    if (!run) return
    this.run = null
    const text = run.parts.join('')
    if (run.type === 'text') this.blocks.push({ type: 'text', text })
    else this.blocks.push({ type: 'thinking', text, ...(run.signature ? { signature: run.signature } : {}) })
  }
}
