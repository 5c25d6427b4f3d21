/**
 * Cuts a recorded response body into the pieces the mock writes one at a time, so a replayed stream
 * arrives like a model's: SSE one event per write, compressed streams in small slices.
 */

/** Compressed bytes have no visible event boundaries: stream them in slices of this size. */
export const ENCODED_SLICE_BYTES = 256

export function splitForPacing(
  body: Buffer,
  contentType: string | undefined,
  contentEncoding: string | undefined,
): Buffer[] {
  if (body.length === 0) return []
  const isEventStream = contentType?.toLowerCase().startsWith('text/event-stream') ?? false
  if (!isEventStream) return [body]
  const identity = contentEncoding === undefined || contentEncoding.toLowerCase() === 'identity'
  return identity ? splitEvents(body) : slice(body, ENCODED_SLICE_BYTES)
}

/** Each piece ends just after an event's blank line (`\n\n` or `\r\n\r\n`); a tail without one is kept. */
export function splitEvents(body: Buffer): Buffer[] {
  const pieces: Buffer[] = []
  let start = 0
  let index = 0
  while (index < body.length) {
    const end = blankLineEnd(body, index)
    if (end === undefined) {
      index += 1
      continue
    }
    pieces.push(body.subarray(start, end))
    start = end
    index = end
  }
  if (start < body.length) pieces.push(body.subarray(start))
  return pieces
}

/** If a blank line starts at `at`, where it ends. */
function blankLineEnd(body: Buffer, at: number): number | undefined {
  const LF = 0x0a
  const CR = 0x0d
  if (body[at] === LF && body[at + 1] === LF) return at + 2
  if (body[at] === CR && body[at + 1] === LF && body[at + 2] === CR && body[at + 3] === LF) return at + 4
  return undefined
}

function slice(body: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = []
  for (let offset = 0; offset < body.length; offset += size) pieces.push(body.subarray(offset, offset + size))
  return pieces
}
