/**
 * An HTTP listener in front of the emulator: real HTTP requests come in, go through the ext_proc
 * server as Envoy would send them, on to an upstream, and back. It stands in for Envoy where there
 * is no Envoy binary (tests, benchmarks); bodies are buffered, so it does not model streaming pacing.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type * as grpc from '@grpc/grpc-js'
import { createExtProcClient } from './client.js'
import { runExchange } from './emulator.js'
import {
  type EmulatedExchange,
  emptyStats,
  type FilterConfig,
  type ForwardedRequest,
  type ResponseSpec,
} from './types.js'

export interface EmulatedEnvoy {
  url: string
  /** Every exchange played so far (violations, local replies, latencies). */
  exchanges: EmulatedExchange[]
  close(): Promise<void>
}

export async function startEmulatedEnvoy(options: {
  extprocAddress: string
  upstreamUrl: string
  filter: FilterConfig
  host?: string
  port?: number
}): Promise<EmulatedEnvoy> {
  const client: grpc.Client = createExtProcClient(options.extprocAddress)
  const stats = emptyStats()
  const exchanges: EmulatedExchange[] = []
  const upstream = new URL(options.upstreamUrl)

  const server = http.createServer(async (req, res) => {
    try {
      const body = await readAll(req)
      const headers: Array<[string, string]> = []
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!])
      const result = await runExchange(
        client,
        options.filter,
        {
          request: {
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            authority: req.headers.host ?? 'localhost',
            headers: headers.filter(([k]) => k !== 'host'),
            body,
          },
          response: (forwarded) => forward(upstream, req.method ?? 'GET', forwarded),
        },
        stats,
      )
      exchanges.push(result)
      if (result.localReply || !result.downstreamResponse) {
        const local = result.localReply ?? { status: 502, body: 'no response', details: '' }
        res.writeHead(local.status, { 'content-type': 'text/plain', 'x-envoy-details': local.details })
        res.end(local.body)
        return
      }
      const out = result.downstreamResponse
      const status = Number(out.headers.find(([k]) => k === ':status')?.[1] ?? 200)
      const responseHeaders: Array<[string, string]> = out.headers.filter(
        ([k]) => !k.startsWith(':') && k !== 'content-length',
      )
      res.writeHead(status, responseHeaders.flat())
      res.end(out.body)
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(`emulated envoy: ${(err as Error).message}`)
    }
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    exchanges,
    close: async () => {
      client.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

/** Sends the request as it left the ext_proc filter to the upstream; the response is kept byte for byte. */
function forward(upstream: URL, method: string, request: ForwardedRequest): Promise<ResponseSpec> {
  const path = request.headers.find(([k]) => k === ':path')?.[1] ?? '/'
  const headers = request.headers.filter(([k]) => !k.startsWith(':'))
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path,
        headers: [...headers.flat(), 'host', upstream.host],
      },
      async (res) => {
        const responseHeaders: Array<[string, string]> = []
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          responseHeaders.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!])
        }
        resolve({ status: res.statusCode ?? 502, headers: responseHeaders, body: await readAll(res) })
      },
    )
    req.on('error', reject)
    req.end(request.body)
  })
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}
