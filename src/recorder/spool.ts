/**
 * The local spool: turns the database could not take yet (queue overflow, shutdown deadline), as JSON
 * lines under the data dir. Replay renames the active file to a claimed one first, so appends during a
 * replay go to a fresh file and a crash mid-replay leaves the claimed file to be replayed again
 * (re-committing is idempotent by org + request id).
 */
import { createReadStream } from 'node:fs'
import { readdir, rename, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { v7 as uuidv7 } from 'uuid'
import { z } from 'zod'
import type { RawBody, Turn } from '../session/turn.js'
import type { JsonlAppender } from './jsonl-appender.js'

export const SPOOL_FILE = 'spool.jsonl'
export const DEAD_LETTER_FILE = 'dead-letter.jsonl'
const CLAIMED = /^spool\.replay-[0-9a-f-]+\.jsonl$/

export const SPOOL_REASONS = ['overflow', 'drain'] as const
export type SpoolReason = (typeof SPOOL_REASONS)[number]

const spooledRawBody = z.object({
  bytes: z.base64().transform((text) => new Uint8Array(Buffer.from(text, 'base64'))),
  size: z.number().int().min(0),
  truncated: z.boolean(),
})

/**
 * What a spool line must hold to be committed: the identity and the fields whose JSON form differs
 * from the Turn (startedAt is a Date, raw body bytes are base64). The rest was written by this program from a valid Turn.
 */
const spoolLine = z.object({
  v: z.literal(1),
  reason: z.enum(SPOOL_REASONS),
  turn: z.looseObject({
    requestId: z.string().min(1),
    envelope: z.looseObject({ orgId: z.string(), harnessId: z.string(), harnessSessionId: z.string() }),
    startedAt: z.iso.datetime().transform((s) => new Date(s)),
    nodes: z.array(z.looseObject({ hash: z.string() })),
    rawBodies: z
      .object({ encoding: z.literal('br'), request: spooledRawBody, response: spooledRawBody })
      .nullish(),
  }),
})

/** A raw body's bytes as base64: JSON would write a Uint8Array as an object of numbered bytes. */
function jsonRawBody(body: RawBody): unknown {
  return {
    ...body,
    bytes: Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.length).toString('base64'),
  }
}

/** The turn as a JSON line holds it (the spool, the dead-letter file). */
export function jsonTurn(turn: Turn): unknown {
  const raw = turn.rawBodies
  if (!raw) return turn
  return {
    ...turn,
    rawBodies: { ...raw, request: jsonRawBody(raw.request), response: jsonRawBody(raw.response) },
  }
}

export function spoolRecord(turn: Turn, reason: SpoolReason): unknown {
  return { v: 1, reason, turn: jsonTurn(turn) }
}

/** `bytes`: the line's length, a stand-in for the memory the turn holds. */
export type SpoolEntry = { ok: true; turn: Turn; bytes: number } | { ok: false; line: string; error: string }

export function parseSpoolLine(line: string): SpoolEntry {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch (err) {
    // The last line of a file cut by a crash mid-append.
    return { ok: false, line, error: `malformed JSON: ${(err as Error).message}` }
  }
  const parsed = spoolLine.safeParse(json)
  if (!parsed.success)
    return { ok: false, line, error: `invalid spool line: ${parsed.error.issues[0]?.message}` }
  return { ok: true, turn: parsed.data.turn as unknown as Turn, bytes: line.length }
}

export async function* readSpoolFile(file: string): AsyncGenerator<SpoolEntry> {
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  for await (const line of lines) {
    if (line.trim().length > 0) yield parseSpoolLine(line)
  }
}

/**
 * Moves the active spool file (if it holds anything) aside under a claimed name, and returns every
 * claimed file, oldest first: files claimed by an earlier run that crashed are replayed too.
 */
export async function claimSpoolFiles(dataDir: string, active: JsonlAppender): Promise<string[]> {
  await active.exclusive(async () => {
    const size = await stat(active.path).then(
      (s) => s.size,
      () => 0,
    )
    if (size > 0) await rename(active.path, path.join(dataDir, `spool.replay-${uuidv7()}.jsonl`))
  })
  const names = (await readdir(dataDir)).filter((name) => CLAIMED.test(name)).sort()
  return names.map((name) => path.join(dataDir, name))
}

export async function removeClaimedFile(file: string): Promise<void> {
  await unlink(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err
  })
}
