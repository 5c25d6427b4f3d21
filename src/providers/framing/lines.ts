/**
 * Incremental line splitting over raw bytes for the line-based framings (SSE, NDJSON). Bytes are
 * decoded once with a streaming TextDecoder, so a chunk may end anywhere (even inside a UTF-8
 * character or between the CR and LF of a CRLF). CRLF, LF and lone CR all end a line.
 */

const LF = 10

export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8')
  /** Pieces of the current unterminated line; joined once when the line ends (no quadratic concat). */
  private pending: string[] = []
  /** The previous chunk ended with CR: a LF opening the next chunk belongs to that line ending. */
  private skipLeadingLf = false

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }))
  }

  /** Flushes the decoder and emits a last line that lacked its terminator. */
  end(): void {
    this.feed(this.decoder.decode())
    if (this.pending.length > 0) this.onLine(this.takePending(''))
  }

  private feed(text: string): void {
    if (text.length === 0) return
    let pos = 0
    if (this.skipLeadingLf) {
      if (text.charCodeAt(0) === LF) pos = 1
      this.skipLeadingLf = false
    }
    let lf = text.indexOf('\n', pos)
    let cr = text.indexOf('\r', pos)
    while (lf !== -1 || cr !== -1) {
      let end: number
      let next: number
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        end = lf
        next = lf + 1
        lf = text.indexOf('\n', next)
      } else {
        end = cr
        next = cr + 1
        if (next === text.length) this.skipLeadingLf = true
        else if (text.charCodeAt(next) === LF) {
          next += 1
          lf = text.indexOf('\n', next)
        }
        cr = text.indexOf('\r', next)
      }
      const piece = text.slice(pos, end)
      this.onLine(this.pending.length > 0 ? this.takePending(piece) : piece)
      pos = next
    }
    if (pos < text.length) this.pending.push(pos === 0 ? text : text.slice(pos))
  }

  private takePending(last: string): string {
    this.pending.push(last)
    const line = this.pending.join('')
    this.pending = []
    return line
  }
}
