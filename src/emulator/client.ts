/** The emulator's gRPC connection to an ext_proc server: h2c like Envoy's ext_proc cluster, or TLS. */
import * as grpc from '@grpc/grpc-js'
import { MAX_GRPC_MESSAGE_BYTES } from '../extproc/proto.js'

/** PEM bytes: the CA that signed the server's certificate, and the client's own pair for mTLS. */
export interface ClientTls {
  ca: Buffer
  cert?: Buffer
  key?: Buffer
  /** The name the server certificate is checked against, when the address is an IP. */
  serverName?: string
}

export function createExtProcClient(address: string, tls?: ClientTls): grpc.Client {
  const credentials = tls
    ? grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null)
    : grpc.credentials.createInsecure()
  return new grpc.Client(address, credentials, {
    ...(tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {}),
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  })
}
