/**
 * The yardstick: a do-nothing ext_proc server on the same @grpc/grpc-js and protos as sessiontap.
 * It answers every message at once with the minimal correct reply and ends the call when the
 * response ends; it captures, parses and stores nothing. Run as a child of bench/run.ts.
 */
import * as grpc from '@grpc/grpc-js'
import type { BodySendMode, ProcessingRequest, ProcessingResponse } from '../src/extproc/messages.js'
import { loadProtos, MAX_GRPC_MESSAGE_BYTES } from '../src/extproc/proto.js'
import { replyTo } from '../src/extproc/replies.js'
import { serveStats } from './child-stats.js'

type Call = grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>

function process_(call: Call): void {
  let ended = false
  // Only FULL_DUPLEX_STREAMED changes the reply; the modes come with the first message (protocol_config).
  let modes: { request?: BodySendMode; response?: BodySendMode } = {}
  const end = () => {
    if (ended || call.cancelled) return
    ended = true
    call.end()
  }
  call.on('data', (msg: ProcessingRequest) => {
    const kind = msg.request
    if (!kind || ended) return
    if (msg.protocol_config)
      modes = {
        request: msg.protocol_config.request_body_mode,
        response: msg.protocol_config.response_body_mode,
      }
    if (!msg.observability_mode) {
      const body = kind === 'request_body' || kind === 'response_body' ? msg[kind] : undefined
      call.write(replyTo(kind, kind.startsWith('request') ? modes.request : modes.response, body, []))
    }
    const endsResponse =
      (kind === 'response_headers' && msg.response_headers?.end_of_stream) ||
      (kind === 'response_body' && msg.response_body?.end_of_stream) ||
      kind === 'response_trailers'
    if (endsResponse) end()
  })
  call.on('end', end)
  call.on('error', () => {})
}

const server = new grpc.Server({
  'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
})
server.addService(loadProtos().extProc.service, { Process: process_ })
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
    err ? reject(err) : resolve(p),
  ),
)
serveStats({ address: `127.0.0.1:${port}` }, async () => {
  server.forceShutdown()
})
