import { existsSync } from 'node:fs'
import path from 'node:path'
import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { PROTO_ROOT } from '../../src/extproc/proto.js'

const XDS = path.resolve(import.meta.dirname, '../../node_modules/@grpc/grpc-js-xds/deps')

function load(roots: string[], file: string): protobuf.Root {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) =>
    roots.map((dir) => path.join(dir, target)).find((candidate) => existsSync(candidate)) ?? target
  root.loadSync(file, { keepCase: true })
  return root
}

// Messages exercising every field that both our minimal protos and Envoy's (older, ~1.31) copy in
// @grpc/grpc-js-xds define; newer fields (protocol_config, streamed_response, …) are checked by number below.
const REQUEST = {
  request_headers: {
    headers: {
      headers: [
        { key: ':path', raw_value: Buffer.from('/v1/messages') },
        { key: 'x', value: 'y' },
      ],
    },
    end_of_stream: true,
  },
  metadata_context: { filter_metadata: { ns: { fields: { a: { stringValue: 'b' } } } } },
  attributes: { 'envoy.filters.http.ext_proc': { fields: { 'request.path': { stringValue: '/p' } } } },
  observability_mode: true,
}
const RESPONSE = {
  request_headers: {
    response: {
      status: 1,
      header_mutation: {
        set_headers: [
          { header: { key: 'k', raw_value: Buffer.from('v') }, append: { value: true }, append_action: 2 },
        ],
        remove_headers: ['x-tapes-cwd'],
      },
      body_mutation: { body: Buffer.from('b') },
      clear_route_cache: true,
    },
  },
  dynamic_metadata: { fields: { ns: { structValue: { fields: { n: { numberValue: 42 } } } } } },
  mode_override: { request_body_mode: 1, response_body_mode: 2, response_trailer_mode: 1 },
  override_message_timeout: { seconds: 5, nanos: 1 },
}
const IMMEDIATE = {
  immediate_response: {
    status: { code: 429 },
    headers: { set_headers: [{ header: { key: 'retry-after', raw_value: Buffer.from('1') } }] },
    body: Buffer.from('slow down'),
    grpc_status: { status: 8 },
    details: 'loop detected',
  },
}

describe('proto/ is wire-compatible with Envoy’s own ext_proc protos', () => {
  const ours = load([PROTO_ROOT], 'envoy/service/ext_proc/v3/external_processor.proto')
  const envoy = load(
    ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(XDS, d)),
    'envoy/service/ext_proc/v3/external_processor.proto',
  )

  it.each([
    ['ProcessingRequest', REQUEST],
    ['ProcessingResponse', RESPONSE],
    ['ProcessingResponse', IMMEDIATE],
  ])('%s encodes byte-identically and decodes both ways', (name, sample) => {
    const a = ours.lookupType(`envoy.service.ext_proc.v3.${name}`)
    const b = envoy.lookupType(`envoy.service.ext_proc.v3.${name}`)
    const bytesA = Buffer.from(a.encode(a.fromObject(sample)).finish())
    const bytesB = Buffer.from(b.encode(b.fromObject(sample)).finish())
    expect(bytesA.equals(bytesB)).toBe(true)
    expect(a.toObject(a.decode(bytesB), { bytes: String })).toEqual(
      b.toObject(b.decode(bytesA), { bytes: String }),
    )
  })

  it('carries the fields newer than that copy under Envoy’s field numbers', () => {
    const req = ours.lookupType('envoy.service.ext_proc.v3.ProcessingRequest')
    expect(req.fields.protocol_config?.id).toBe(11)
    expect(req.fields.observability_mode?.id).toBe(10)
    const res = ours.lookupType('envoy.service.ext_proc.v3.ProcessingResponse')
    expect(res.fields.streamed_immediate_response?.id).toBe(11)
    expect(res.fields.request_drain?.id).toBe(12)
    const mutation = ours.lookupType('envoy.service.ext_proc.v3.BodyMutation')
    expect(mutation.fields.streamed_response?.id).toBe(3)
    const mode = ours.lookupEnum('envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode')
    expect(mode.values).toMatchObject({
      NONE: 0,
      STREAMED: 1,
      BUFFERED: 2,
      BUFFERED_PARTIAL: 3,
      FULL_DUPLEX_STREAMED: 4,
      GRPC: 5,
    })
    // Everything Envoy's copy has, ours has under the same number.
    const envoyReq = envoy.lookupType('envoy.service.ext_proc.v3.ProcessingRequest')
    for (const [name, field] of Object.entries(envoyReq.fields))
      expect(req.fields[name]?.id, name).toBe(field.id)
    const envoyRes = envoy.lookupType('envoy.service.ext_proc.v3.ProcessingResponse')
    for (const [name, field] of Object.entries(envoyRes.fields))
      expect(res.fields[name]?.id, name).toBe(field.id)
  })
})
