/**
 * Client-side (Envoy-side) serializers for ext_proc messages, built from the same proto set and
 * loader options as the server, plus the HTTP status enum for immediate responses.
 */
import * as protoLoader from '@grpc/proto-loader'
import type { ProcessingRequest, ProcessingResponse } from '../extproc/messages.js'
import { LOADER_OPTIONS } from '../extproc/proto.js'

interface MethodDef {
  requestSerialize(m: unknown): Buffer
  responseDeserialize(b: Buffer): unknown
}

let cache:
  | {
      encode(m: ProcessingRequest): Buffer
      decode(b: Buffer): ProcessingResponse
      statusCodes: Map<string, number>
    }
  | undefined

export function codecs() {
  if (cache) return cache
  const def = protoLoader.loadSync(['envoy/service/ext_proc/v3/external_processor.proto'], LOADER_OPTIONS)
  const service = def['envoy.service.ext_proc.v3.ExternalProcessor'] as unknown as Record<string, MethodDef>
  const method = service.Process!
  const statusEnum = def['envoy.type.v3.StatusCode'] as unknown as {
    type: { value: Array<{ name: string; number: number }> }
  }
  const statusCodes = new Map(statusEnum.type.value.map((v) => [v.name, v.number]))
  cache = {
    encode: (m) => method.requestSerialize(m),
    decode: (b) => method.responseDeserialize(b) as ProcessingResponse,
    statusCodes,
  }
  return cache
}

/** The HTTP status of an immediate_response (enum name or number), as Envoy applies it: below 200 → 200. */
export function immediateStatus(code: string | number | undefined): number {
  const n =
    typeof code === 'number'
      ? code
      : code === undefined
        ? 0
        : (codecs().statusCodes.get(code) ?? Number(code))
  return Number.isFinite(n) && n >= 200 ? n : 200
}
