/**
 * Incremental splitter for a streamed JSON array (Gemini streamGenerateContent without alt=sse:
 * `[{...}\r\n,\r\n{...}]` sent over many chunks). Emits the text of each top-level element as soon as
 * it is complete, without parsing it. Input that does not open with `[` is read as a bare sequence
 * of JSON values, so a single object body goes through the same path.
 */

const QUOTE = 34
const BACKSLASH = 92
const COMMA = 44
const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93

function isWhitespace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9
}

export class JsonArrayDecoder {
  private readonly decoder = new TextDecoder('utf-8')
  private started = false
  private closed = false
  /** Nesting depth at which elements begin: 1 inside the outer array, 0 for a bare sequence. */
  private base = 0
  private depth = 0
  private inString = false
  private escape = false
  private inScalar = false
  private inElement = false
  /** Text of the current element from earlier chunks. */
  private parts: string[] = []

  constructor(private readonly onElement: (text: string) => void) {}

  push(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }))
  }

  /** Flushes; an unfinished element is still emitted so the caller can count it as malformed. */
  end(): void {
    this.feed(this.decoder.decode())
    if (this.inElement) this.emit('')
    this.inElement = false
  }

  private feed(text: string): void {
    let start = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (this.inString) {
        if (this.escape) this.escape = false
        else if (c === BACKSLASH) this.escape = true
        else if (c === QUOTE) {
          this.inString = false
          if (this.depth === this.base) this.emit(text.slice(start, i + 1))
        }
        continue
      }
      if (this.inScalar) {
        if (!isWhitespace(c) && c !== COMMA && c !== CLOSE_BRACKET) continue
        this.inScalar = false
        this.emit(text.slice(start, i))
      }
      if (this.closed || isWhitespace(c)) continue
      if (!this.started) {
        this.started = true
        if (c === OPEN_BRACKET) {
          this.base = this.depth = 1
          continue
        }
      }
      if (this.depth === this.base) {
        if (c === COMMA) continue
        if (c === CLOSE_BRACKET && this.base === 1) {
          this.closed = true
          continue
        }
        this.inElement = true
        start = i
        if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++
        else if (c === QUOTE) this.inString = true
        else this.inScalar = true
        continue
      }
      if (c === QUOTE) this.inString = true
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--
        if (this.depth === this.base) this.emit(text.slice(start, i + 1))
      }
    }
    if (this.inElement) this.parts.push(text.slice(start))
  }

  private emit(last: string): void {
    this.inElement = false
    if (this.parts.length === 0) {
      this.onElement(last)
      return
    }
    this.parts.push(last)
    const text = this.parts.join('')
    this.parts = []
    this.onElement(text)
  }
}
