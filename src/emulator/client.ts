/** The emulator's gRPC connection to an ext_proc server: h2c, like Envoy's ext_proc cluster. */
import * as grpc from '@grpc/grpc-js'
import { MAX_GRPC_MESSAGE_BYTES } from '../extproc/proto.js'

export function createExtProcClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  })
}
