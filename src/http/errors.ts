/**
 * The one mapping from errors to HTTP answers: an ApiError says its status, code and message; errors
 * of lower layers that are the client's fault are mapped here; anything else is a 500 (logged).
 */
import { InvalidCursorError } from '../store/read/index.js'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** The client-facing form of an error, or null for a fault of ours (answer 500, log it). */
export function clientError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err
  if (err instanceof InvalidCursorError) return new ApiError(400, 'invalid_cursor', err.message)
  return null
}
