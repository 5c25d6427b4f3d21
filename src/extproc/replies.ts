/**
 * ProcessingResponse builders. Every message Envoy waits on gets exactly one reply of the matching
 * type; these are the only replies sessiontap sends (it observes, it never rewrites bodies).
 */

import type { LocalReply } from '../exchange.js'
import type { BodySendMode, HttpBody, ProcessingResponse, RequestKind } from './messages.js'

/** An empty HeadersResponse/BodyResponse: continue, no changes. */
const CONTINUE = {}

/** Header names removed before the request goes upstream: the x-tapes-* envelope. */
export function envelopeHeadersToStrip(headerNames: Iterable<string>, prefix: string): string[] {
  const out: string[] = []
  for (const name of headerNames) if (name.startsWith(prefix)) out.push(name)
  return out
}

export function replyTo(
  kind: RequestKind,
  bodyMode: BodySendMode | undefined,
  body: HttpBody | undefined,
  removeHeaders: readonly string[],
): ProcessingResponse {
  switch (kind) {
    case 'request_headers':
      return removeHeaders.length > 0
        ? { request_headers: { response: { header_mutation: { remove_headers: [...removeHeaders] } } } }
        : { request_headers: CONTINUE }
    case 'response_headers':
      return { response_headers: CONTINUE }
    case 'request_body':
    case 'response_body':
      // FULL_DUPLEX_STREAMED drains the original bytes: the next hop gets only what we send back.
      if (bodyMode === 'FULL_DUPLEX_STREAMED') {
        return {
          [kind]: {
            response: {
              body_mutation: {
                streamed_response: {
                  body: body?.body ?? Buffer.alloc(0),
                  end_of_stream: body?.end_of_stream === true,
                },
              },
            },
          },
        }
      }
      return { [kind]: CONTINUE }
    case 'request_trailers':
      return { request_trailers: {} }
    case 'response_trailers':
      return { response_trailers: {} }
  }
}

/** A local reply Envoy sends to the client instead of forwarding the request. */
export function immediateReply(reply: LocalReply): ProcessingResponse {
  return {
    immediate_response: {
      status: { code: reply.status },
      headers: {
        set_headers: [
          {
            header: { key: 'content-type', raw_value: Buffer.from('application/json') },
            append: { value: false },
            append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
          },
        ],
      },
      body: Buffer.from(reply.body),
      details: reply.details,
    },
  }
}
