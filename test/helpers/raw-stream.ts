/** A bare ext_proc stream for tests that must send what Envoy never would (or stop where it never would). */
import type * as grpc from '@grpc/grpc-js'
import { codecs } from '../../src/emulator/codec.js'
import type { ProcessingRequest, ProcessingResponse } from '../../src/extproc/messages.js'

export interface RawStream {
  call: grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>
  replies: ProcessingResponse[]
  /** Resolves with the status the server ended the call with. */
  status: Promise<grpc.StatusObject>
  /** Resolves once `n` replies have arrived (or rejects after the timeout). */
  waitForReplies(n: number, timeoutMs?: number): Promise<ProcessingResponse[]>
  /**
   * Resets the stream (RST_STREAM CANCEL), as Envoy does, one macrotask later. grpc-js 1.14.7 loses a
   * `cancel()` made in the tick its call started: the child call is created after it and sends the
   * request anyway, never reset, so client and server both hold the stream until the connection closes.
   */
  reset(): void
}

export function openRawStream(client: grpc.Client): RawStream {
  const { encode, decode } = codecs()
  const call = client.makeBidiStreamRequest(
    '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
    (m: ProcessingRequest) => encode(m),
    (b: Buffer) => decode(b),
  ) as grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>
  const replies: ProcessingResponse[] = []
  call.on('data', (r: ProcessingResponse) => replies.push(r))
  call.on('error', () => {})
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve))
  return {
    call,
    replies,
    status,
    reset() {
      setImmediate(() => call.cancel())
    },
    async waitForReplies(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (replies.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} replies, got ${replies.length}`)
        await new Promise((r) => setTimeout(r, 5))
      }
      return replies
    },
  }
}

export function headerMap(headers: Array<[string, string]>) {
  return { headers: headers.map(([key, value]) => ({ key, raw_value: Buffer.from(value, 'utf8') })) }
}
