/**
 * Incremental Server-Sent Events decoder (WHATWG "event stream interpretation"): data lines are
 * joined with "\n", comments and unknown fields are ignored, a blank line dispatches. Knows nothing
 * about LLM providers. At end() an event lacking its final blank line is still dispatched, because
 * a captured stream may stop right before it and its data is usually whole.
 */
import { LineSplitter } from './lines.js'

export interface SseEvent {
  /** The `event:` field, or undefined when the event had none (the spec's "message"). */
  event: string | undefined
  data: string
  /** The last `id:` seen so far in the stream, as the spec defines it. */
  id: string | undefined
}

const COLON = 58
const SPACE = 32

export class SseDecoder {
  private readonly lines: LineSplitter
  private data: string[] = []
  private eventName: string | undefined
  private lastId: string | undefined

  constructor(private readonly onEvent: (event: SseEvent) => void) {
    this.lines = new LineSplitter((line) => this.line(line))
  }

  push(chunk: Uint8Array): void {
    this.lines.push(chunk)
  }

  end(): void {
    this.lines.end()
    this.dispatch()
  }

  private line(line: string): void {
    if (line.length === 0) {
      this.dispatch()
      return
    }
    if (line.charCodeAt(0) === COLON) return // comment (keep-alive)
    // Nearly every line is a data line: read it without slicing out the field name.
    if (line.startsWith('data:')) {
      this.data.push(line.slice(line.charCodeAt(5) === SPACE ? 6 : 5))
      return
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = ''
    if (colon !== -1) value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1)
    switch (field) {
      case 'data':
        this.data.push(value)
        break
      case 'event':
        this.eventName = value
        break
      case 'id':
        if (!value.includes('\0')) this.lastId = value
        break
      // 'retry' and unknown fields carry nothing a recorder needs.
    }
  }

  private dispatch(): void {
    if (this.data.length > 0) {
      const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n')
      this.onEvent({ event: this.eventName || undefined, data, id: this.lastId })
    }
    this.data = []
    this.eventName = undefined
  }
}
