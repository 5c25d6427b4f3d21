/**
 * The ext_proc port's TCP listener, owned here instead of by grpc-js (its public connection injector
 * takes our sockets), so that a connection can be closed by its peer address: grpc-js keeps its
 * HTTP/2 sessions to itself, and a peer that sends bytes no Envoy would send should not keep its
 * connection open to try again.
 */
import net from 'node:net'
import type * as grpc from '@grpc/grpc-js'

export interface ExtProcListener {
  readonly port: number
  /** Destroys the connection of `peer` (grpc-js `call.getPeer()`: "address:port"); false if it is gone. */
  closePeer(peer: string): boolean
  /** Stops accepting connections; the open ones are grpc-js's to drain (tryShutdown/forceShutdown). */
  close(): void
}

/** "host:port", "[v6]:port" → listen options; the brackets are URL syntax, not part of the address. */
function hostAndPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1')
  return { host, port: Number(address.slice(colon + 1)) }
}

/** The key grpc-js gives the same socket in getPeer(). */
const peerOf = (socket: net.Socket) => `${socket.remoteAddress}:${socket.remotePort}`

export async function listenExtProc(
  server: grpc.Server,
  address: string,
  credentials: grpc.ServerCredentials,
  onConnection: () => void,
): Promise<ExtProcListener> {
  const injector = server.createConnectionInjector(credentials)
  const sockets = new Map<string, net.Socket>()
  const tcp = net.createServer((socket) => {
    onConnection()
    const peer = peerOf(socket)
    sockets.set(peer, socket)
    socket.once('close', () => sockets.delete(peer))
    injector.injectConnection(socket)
  })
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject)
    tcp.listen(hostAndPort(address), () => {
      tcp.off('error', reject)
      resolve()
    })
  })
  return {
    port: (tcp.address() as net.AddressInfo).port,
    closePeer(peer) {
      const socket = sockets.get(peer)
      socket?.destroy()
      return socket !== undefined
    },
    close() {
      tcp.close()
    },
  }
}
