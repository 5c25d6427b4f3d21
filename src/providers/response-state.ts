/**
 * What every stream reducer accumulates besides its content (id, model, stop reason, usage, error,
 * whether the terminal event came) and the one way those become a ReducedStream.
 */
import type { ErrorInfo } from './errors.js'
import type { ReducedStream } from './provider.js'
import type { ContentBlock, Message, ProviderTiming, Usage } from './types.js'
import { missingUsage } from './usage.js'

export class ResponseState {
  id: string | null = null
  model: string | null = null
  stopReason: string | null = null
  usage: Usage = missingUsage()
  providerTiming: ProviderTiming | null = null
  error: ErrorInfo | null = null
  terminal = false

  /**
   * Whether a response was produced even without content: it ended (terminal event or stop reason)
   * without an error, as when every output token went to hidden reasoning.
   */
  private get answered(): boolean {
    return this.error === null && (this.terminal || this.stopReason !== null)
  }

  /**
   * The reduced response. `content` is the first choice's; `alternatives` the other choices' in
   * index order. No content and no answer means no message (an error, or nothing streamed).
   */
  finish(content: ContentBlock[], alternatives: ContentBlock[][] = []): ReducedStream {
    const message: Message | null =
      content.length > 0 || this.answered || alternatives.length > 0 ? { role: 'assistant', content } : null
    return {
      response: {
        message,
        ...(alternatives.length > 0
          ? { alternatives: alternatives.map((blocks): Message => ({ role: 'assistant', content: blocks })) }
          : {}),
        model: this.model,
        stopReason: this.stopReason,
        providerResponseId: this.id,
        usage: this.usage,
        ...(this.providerTiming ? { providerTiming: this.providerTiming } : {}),
        error: this.error,
      },
      terminal: this.terminal,
    }
  }
}
