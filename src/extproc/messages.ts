/**
 * TypeScript shapes of the ext_proc messages as @grpc/proto-loader decodes and encodes them with the
 * options in proto.ts (snake_case fields, bytes as Buffer, enums as strings, `request`/`response` naming
 * the oneof member). Only the fields sessiontap reads or writes are typed.
 */

export type BodySendMode =
  | 'NONE'
  | 'STREAMED'
  | 'BUFFERED'
  | 'BUFFERED_PARTIAL'
  | 'FULL_DUPLEX_STREAMED'
  | 'GRPC'
export type HeaderSendMode = 'DEFAULT' | 'SEND' | 'SKIP'

export interface HeaderValue {
  key: string
  value?: string
  raw_value?: Buffer | Uint8Array
}
export interface ProtoHeaderMap {
  headers?: HeaderValue[]
}
export interface HttpHeaders {
  headers?: ProtoHeaderMap
  end_of_stream?: boolean
}
export interface HttpBody {
  body?: Buffer
  end_of_stream?: boolean
}
export interface HttpTrailers {
  trailers?: ProtoHeaderMap
}

/** google.protobuf.Struct / Value: camelCase member names even with keepCase (protobufjs bundled types). */
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>
}
export interface ProtoValue {
  nullValue?: string | number
  numberValue?: number
  stringValue?: string
  boolValue?: boolean
  structValue?: ProtoStruct
  listValue?: { values?: ProtoValue[] }
  kind?: string
}

export interface ProcessingMode {
  request_header_mode?: HeaderSendMode
  response_header_mode?: HeaderSendMode
  request_body_mode?: BodySendMode
  response_body_mode?: BodySendMode
  request_trailer_mode?: HeaderSendMode
  response_trailer_mode?: HeaderSendMode
}

export const REQUEST_KINDS = [
  'request_headers',
  'response_headers',
  'request_body',
  'response_body',
  'request_trailers',
  'response_trailers',
] as const
export type RequestKind = (typeof REQUEST_KINDS)[number]

export interface ProcessingRequest {
  request?: RequestKind
  request_headers?: HttpHeaders
  response_headers?: HttpHeaders
  request_body?: HttpBody
  response_body?: HttpBody
  request_trailers?: HttpTrailers
  response_trailers?: HttpTrailers
  metadata_context?: { filter_metadata?: Record<string, ProtoStruct> }
  attributes?: Record<string, ProtoStruct>
  observability_mode?: boolean
  protocol_config?: {
    request_body_mode?: BodySendMode
    response_body_mode?: BodySendMode
    send_body_without_waiting_for_header_response?: boolean
  }
}

export interface HeaderValueOption {
  header?: HeaderValue
  append?: { value: boolean }
  append_action?: string
  keep_empty_value?: boolean
}
export interface HeaderMutation {
  set_headers?: HeaderValueOption[]
  remove_headers?: string[]
}
export interface StreamedBodyResponse {
  body?: Buffer | Uint8Array
  end_of_stream?: boolean
}
export interface BodyMutation {
  mutation?: 'body' | 'clear_body' | 'streamed_response'
  body?: Buffer | Uint8Array
  clear_body?: boolean
  streamed_response?: StreamedBodyResponse
}
export interface CommonResponse {
  status?: 'CONTINUE' | 'CONTINUE_AND_REPLACE'
  header_mutation?: HeaderMutation
  body_mutation?: BodyMutation
  clear_route_cache?: boolean
}
export interface ImmediateResponse {
  status?: { code?: string | number }
  headers?: HeaderMutation
  body?: Buffer | Uint8Array
  details?: string
}

export const RESPONSE_KINDS = [...REQUEST_KINDS, 'immediate_response', 'streamed_immediate_response'] as const
export type ResponseKind = (typeof RESPONSE_KINDS)[number]

export interface ProcessingResponse {
  response?: ResponseKind
  request_headers?: { response?: CommonResponse }
  response_headers?: { response?: CommonResponse }
  request_body?: { response?: CommonResponse }
  response_body?: { response?: CommonResponse }
  request_trailers?: { header_mutation?: HeaderMutation }
  response_trailers?: { header_mutation?: HeaderMutation }
  immediate_response?: ImmediateResponse
  streamed_immediate_response?: unknown
  dynamic_metadata?: ProtoStruct
  mode_override?: ProcessingMode
  override_message_timeout?: { seconds?: string | number; nanos?: number }
}
