import * as grpc from '@grpc/grpc-js'
import { afterEach, describe, expect, it } from 'vitest'
import { createExtProcClient } from '../../src/emulator/client.js'
import { runExchange } from '../../src/emulator/emulator.js'
import { applyHeaderMutation, type HeaderList } from '../../src/emulator/mutations.js'
import {
  DEFAULT_FILTER,
  emptyStats,
  type FilterConfig,
  type HttpExchangeSpec,
} from '../../src/emulator/types.js'
import type { ProcessingRequest, ProcessingResponse } from '../../src/extproc/messages.js'
import { loadProtos } from '../../src/extproc/proto.js'

type Handler = (
  msg: ProcessingRequest,
  call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>,
) => void

/** A deliberately scriptable ext_proc server, to check that the emulator catches what Envoy would. */
async function fakeServer(handler: Handler) {
  const server = new grpc.Server()
  server.addService(loadProtos().extProc.service, {
    Process: (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
      call.on('data', (m: ProcessingRequest) => handler(m, call))
      call.on('end', () => call.end())
      call.on('error', () => {})
    },
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  )
  const client = createExtProcClient(`127.0.0.1:${port}`)
  return {
    client,
    close: () => {
      client.close()
      server.forceShutdown()
    },
  }
}

/** The correct reply to every message, for handlers that only change one thing. */
function correct(m: ProcessingRequest): ProcessingResponse {
  return { [m.request!]: {} }
}

const SPEC: HttpExchangeSpec = {
  request: {
    method: 'POST',
    path: '/v1/chat/completions',
    authority: 'a',
    headers: [['content-type', 'application/json']],
    body: Buffer.from('{"model":"m"}'),
  },
  response: { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from('{"id":"r"}') },
}
const CFG: FilterConfig = { ...DEFAULT_FILTER, messageTimeoutMs: 300, chunking: { kind: 'fixed', size: 4 } }

let current: Awaited<ReturnType<typeof fakeServer>> | undefined
afterEach(() => current?.close())
async function play(handler: Handler, cfg: FilterConfig = CFG, spec: HttpExchangeSpec = SPEC) {
  current = await fakeServer(handler)
  const stats = emptyStats()
  const result = await runExchange(current.client, cfg, spec, stats)
  return { result, stats }
}

describe('Envoy emulator against a misbehaving ext_proc server', () => {
  it('passes a correct server with no violations', async () => {
    const { result } = await play((m, call) => call.write(correct(m)))
    expect(result.violations).toEqual([])
    expect(result.downstreamResponse?.body.toString()).toBe('{"id":"r"}')
  })

  it('flags a reply of the wrong type as spurious and fails the request with 500', async () => {
    const { result, stats } = await play((m, call) =>
      call.write(m.request === 'response_headers' ? { request_headers: {} } : correct(m)),
    )
    expect(stats.spurious_msgs_received).toBe(1)
    expect(result.violations.join()).toContain('spurious message: request_headers reply while')
    expect(result.localReply?.status).toBe(500)
  })

  it('flags an empty ProcessingResponse as spurious', async () => {
    const { result } = await play((m, call) => call.write(m.request === 'request_body' ? {} : correct(m)))
    expect(result.violations.join()).toContain('empty ProcessingResponse')
  })

  it('times out a missing reply with 504, or lets the request through with failure_mode_allow', async () => {
    const skipBody: Handler = (m, call) => {
      if (m.request !== 'request_body') call.write(correct(m))
    }
    const strict = await play(skipBody)
    expect(strict.stats.message_timeouts).toBe(1)
    expect(strict.result.localReply?.status).toBe(504)
    current?.close()
    const open = await play(skipBody, { ...CFG, failureModeAllow: true })
    expect(open.stats.failure_mode_allowed).toBe(1)
    expect(open.result.localReply).toBeUndefined()
    expect(open.result.upstreamRequest.body.toString()).toBe('{"model":"m"}')
  })

  it('flags any reply in observability mode', async () => {
    const { result } = await play((m, call) => call.write(correct(m)), {
      ...CFG,
      observabilityMode: true,
      deferredCloseMs: 200,
    })
    expect(result.violations.some((v) => v.includes('observability mode'))).toBe(true)
  })

  it('applies body mutations per chunk in STREAMED mode, FIFO', async () => {
    const { result } = await play((m, call) => {
      if (m.request === 'response_body') {
        const text = m.response_body?.body?.toString() ?? ''
        call.write({
          response_body: { response: { body_mutation: { body: Buffer.from(text.toUpperCase()) } } },
        })
      } else call.write(correct(m))
    })
    expect(result.violations).toEqual([])
    expect(result.downstreamResponse?.body.toString()).toBe('{"ID":"R"}')
  })

  it('requires streamed_response in FULL_DUPLEX_STREAMED and refuses a plain body reply', async () => {
    const cfg: FilterConfig = {
      ...CFG,
      requestBodyMode: 'FULL_DUPLEX_STREAMED',
      responseBodyMode: 'FULL_DUPLEX_STREAMED',
      requestTrailerMode: 'SEND',
      responseTrailerMode: 'SEND',
    }
    const { result } = await play((m, call) => call.write(correct(m)), cfg)
    expect(result.violations.join()).toContain('without streamed_response')
    expect(result.localReply?.status).toBe(500)
  })

  it('loses FULL_DUPLEX bytes that the server does not echo', async () => {
    const cfg: FilterConfig = {
      ...CFG,
      requestBodyMode: 'FULL_DUPLEX_STREAMED',
      responseBodyMode: 'NONE',
      requestTrailerMode: 'SEND',
    }
    const { result } = await play((m, call) => {
      if (m.request === 'request_body') {
        const eos = m.request_body?.end_of_stream === true
        call.write({
          request_body: {
            response: {
              body_mutation: {
                streamed_response: { body: Buffer.from(eos ? 'END' : ''), end_of_stream: eos },
              },
            },
          },
        })
      } else call.write(correct(m))
    }, cfg)
    expect(result.violations).toEqual([])
    expect(result.upstreamRequest.body.toString()).toBe('END')
  })

  it('continues unprocessed when the server ends the stream with OK', async () => {
    const { result, stats } = await play((m, call) => {
      if (m.request === 'request_headers') {
        call.write(correct(m))
        call.end()
      }
    })
    expect(stats.server_half_closed).toBe(1)
    expect(result.localReply).toBeUndefined()
    expect(result.downstreamResponse?.body.toString()).toBe('{"id":"r"}')
  })

  it('answers a BUFFERED request over the buffer limit with 413 and never sends the body', async () => {
    const seen: string[] = []
    const { result } = await play(
      (m, call) => {
        seen.push(m.request!)
        call.write(correct(m))
      },
      { ...CFG, requestBodyMode: 'BUFFERED', bufferLimitBytes: 4 },
    )
    expect(result.localReply?.status).toBe(413)
    expect(seen).toEqual(['request_headers'])
  })

  it('honours mode_override only when allowed, with body modes taken literally', async () => {
    const override: Handler = (m, call) =>
      call.write(
        m.request === 'request_headers'
          ? { request_headers: {}, mode_override: { response_body_mode: 'BUFFERED' } }
          : correct(m),
      )
    const seenAllowed: string[] = []
    await play(
      (m, call) => {
        seenAllowed.push(m.request!)
        override(m, call)
      },
      { ...CFG, allowModeOverride: true },
    )
    // Request body mode became NONE, response body BUFFERED: one response_body message.
    expect(seenAllowed).toEqual(['request_headers', 'response_headers', 'response_body'])
    current?.close()
    const seenIgnored: string[] = []
    await play((m, call) => {
      seenIgnored.push(m.request!)
      override(m, call)
    })
    expect(seenIgnored.filter((k) => k === 'request_body').length).toBeGreaterThan(1)
  })

  it('sends protocol_config only on the first message, and metadata_context on every one', async () => {
    const got: ProcessingRequest[] = []
    await play(
      (m, call) => {
        got.push(m)
        call.write(correct(m))
      },
      { ...CFG, metadata: { ns: { a: 1 } } },
    )
    expect(got[0]?.protocol_config?.request_body_mode).toBe('STREAMED')
    expect(got.slice(1).every((m) => m.protocol_config === undefined)).toBe(true)
    expect(got.every((m) => m.metadata_context?.filter_metadata?.ns !== undefined)).toBe(true)
    const first = got[0]?.request_headers?.headers?.headers ?? []
    expect(first.slice(0, 4).map((h) => h.key)).toEqual([':method', ':scheme', ':authority', ':path'])
    expect(first.every((h) => !h.value && h.raw_value)).toBe(true)
  })
})

describe('header mutation rules', () => {
  const base = (): HeaderList => [
    [':authority', 'a'],
    ['x-a', '1'],
    ['x-a', '2'],
    ['content-length', '3'],
  ]
  const raw = (key: string, value: string) => ({ header: { key, raw_value: Buffer.from(value) } })

  it('overwrites by default, appends with append:true, removes first', () => {
    const h = base()
    const out = applyHeaderMutation(
      h,
      {
        remove_headers: ['x-a'],
        set_headers: [raw('x-b', '1'), { ...raw('x-b', '2'), append: { value: true } }],
      },
      { contentLengthStripped: false, replace: false },
    )
    expect(out.errors).toEqual([])
    expect(h).toEqual([
      [':authority', 'a'],
      ['content-length', '3'],
      ['x-b', '1'],
      ['x-b', '2'],
    ])
  })

  it('rejects value and raw_value together, ignores routing and x-envoy headers, skips stripped content-length', () => {
    const h = base()
    const out = applyHeaderMutation(
      h,
      {
        set_headers: [
          { header: { key: 'x-c', value: 'v', raw_value: Buffer.from('r') } },
          raw(':authority', 'evil'),
          raw('x-envoy-x', '1'),
          raw('content-length', '99'),
        ],
      },
      { contentLengthStripped: true, replace: false },
    )
    expect(out.errors).toHaveLength(1)
    expect(out.rejected).toBe(2)
    expect(h).toEqual(base())
  })
})
