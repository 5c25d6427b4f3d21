/**
 * Messages between the embedded driver (main thread) and the thread that owns PGlite. Every request
 * carries an id its reply echoes; a transaction is named by the id of the request that began it.
 */
import type { QueryResult } from './driver.js'

export type PgliteRequest =
  | { id: number; op: 'query'; tx?: number; text: string; params?: readonly unknown[] }
  | { id: number; op: 'exec'; tx?: number; sql: string }
  /** Opens a transaction at this isolation level (SQL spelling); its id is this request's id. */
  | { id: number; op: 'begin'; isolation: string }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' }

/** An error's message, name and its primitive fields (a Postgres error's code, detail, constraint …). */
export interface WireError {
  message: string
  name: string
  fields: Record<string, string | number | boolean>
}

export type PgliteReply =
  | { id: number; ok: true; result?: QueryResult<unknown> }
  | { id: number; ok: false; error: WireError }

/** The first message of the worker: PGlite is open, or why it could not be. */
export type PgliteReady = { ready: true } | { ready: false; error: WireError }

/** Emscripten's file errors (PGlite failing to open its files) are plain objects without a message. */
export function toWireError(err: unknown): WireError {
  if (typeof err !== 'object' || err === null) return { message: String(err), name: 'Error', fields: {} }
  const fields: WireError['fields'] = {}
  for (const [key, value] of Object.entries(err)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      fields[key] = value
  }
  const { name, message } = err as { name?: unknown; message?: unknown }
  return {
    message: typeof message === 'string' ? message : JSON.stringify(fields),
    name: typeof name === 'string' ? name : 'Error',
    fields,
  }
}

/** An Error on this side with the other side's message, name and fields (so `.code` checks still work). */
export function fromWireError(wire: WireError): Error {
  const err = Object.assign(new Error(wire.message), wire.fields)
  err.name = wire.name
  return err
}
