/**
 * What every stream reducer accumulates besides its content (id, model, stop reason, usage, error,
 * whether the terminal event came) and the one way those become a ReducedStream.
 */
import type { ErrorInfo } from './errors.js'
import type { ReducedStream } from './provider.js'
import type { ContentBlock, Usage } from './types.js'
import { missingUsage } from './usage.js'

export class ResponseState {
  id: string | null = null
  model: string | null = null
  stopReason: string | null = null
  usage: Usage = missingUsage()
  error: ErrorInfo | null = null
  terminal = false

  /** The reduced response; no content means no message (an error, or nothing streamed). */
  finish(content: ContentBlock[]): ReducedStream {
    return {
      response: {
        message: content.length > 0 ? { role: 'assistant', content } : null,
        model: this.model,
        stopReason: this.stopReason,
        providerResponseId: this.id,
        usage: this.usage,
        error: this.error,
      },
      terminal: this.terminal,
    }
  }
}
