/**
 * Incremental newline-delimited JSON framing (Ollama streams): every non-blank line is one record.
 * Records are handed over as text; parsing them is the caller's business.
 */
import { LineSplitter } from './lines.js'

export class NdjsonDecoder {
  private readonly lines: LineSplitter

  constructor(onRecord: (text: string) => void) {
    // Raw CR or LF cannot occur inside a JSON value, so splitting on either is safe.
    this.lines = new LineSplitter((line) => {
      if (line.trim().length > 0) onRecord(line)
    })
  }

  push(chunk: Uint8Array): void {
    this.lines.push(chunk)
  }

  end(): void {
    this.lines.end()
  }
}
