/**
 * The crash journal: every finished exchange is appended here (after its reply went out) before it is
 * parsed, and fsynced in batches every syncIntervalMs. An entry is settled once its turn is committed,
 * spooled or dead-lettered (or dropped for good); a segment file goes once it is rotated out and every
 * entry in it is settled. After a crash (SIGKILL, OOM), start() hands back the entries of the segments
 * left behind, to be recorded again: re-committing is idempotent by org and request id.
 *
 * Record: "STJ1", then u32 lengths of the header JSON, the request body and the response body, then
 * those three. Bodies are the raw captured bytes (still content-encoded).
 */
import { type FileHandle, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { CapturedBody, Exchange } from '../exchange.js'

const MAGIC = Buffer.from('STJ1')
const HEAD = MAGIC.length + 12
const SEGMENT = /^journal-(\d{12})\.bin$/

export interface JournalOptions {
  dir: string
  /** How often appended entries are written and fsynced. */
  syncIntervalMs: number
  /** A segment is closed (and can go once settled) past this size. */
  segmentBytes: number
  /** Bytes the journal may hold on disk and in memory; past it exchanges are not journaled (counted). */
  maxBytes: number
}

/** Which segment holds an entry, so settling it can free that segment. */
export interface JournalEntry {
  readonly segment: number
}

interface Segment {
  seq: number
  file: string
  bytes: number
  outstanding: number
  closed: boolean
}

type BodyHead = Omit<CapturedBody, 'chunks'>

function bodyHead(body: CapturedBody): BodyHead {
  const { chunks: _chunks, ...head } = body
  return head
}

const sizeOf = (chunks: readonly Buffer[]) => chunks.reduce((n, chunk) => n + chunk.length, 0)

/** A record as buffers to write: the body chunks are referenced, not copied (the reply path stays cheap). */
function encode(exchange: Exchange): Buffer[] {
  const { request, response } = exchange
  const header = Buffer.from(
    JSON.stringify({
      ...exchange,
      request: { ...request, body: bodyHead(request.body) },
      response: response ? { ...response, body: bodyHead(response.body) } : null,
    }),
  )
  const req = request.body.chunks
  const res = response?.body.chunks ?? []
  const head = Buffer.alloc(HEAD)
  MAGIC.copy(head)
  head.writeUInt32LE(header.length, 4)
  head.writeUInt32LE(sizeOf(req), 8)
  head.writeUInt32LE(sizeOf(res), 12)
  return [head, header, ...req, ...res]
}

/** The exchanges of one segment's bytes; a torn last record (a crash mid-write) ends the list. */
export function decodeSegment(bytes: Buffer): { exchanges: Exchange[]; torn: boolean } {
  const exchanges: Exchange[] = []
  let at = 0
  while (at < bytes.length) {
    if (bytes.length - at < HEAD || !bytes.subarray(at, at + MAGIC.length).equals(MAGIC)) {
      return { exchanges, torn: true }
    }
    const headerLength = bytes.readUInt32LE(at + 4)
    const reqLength = bytes.readUInt32LE(at + 8)
    const resLength = bytes.readUInt32LE(at + 12)
    const end = at + HEAD + headerLength + reqLength + resLength
    if (end > bytes.length) return { exchanges, torn: true }
    const header = JSON.parse(bytes.subarray(at + HEAD, at + HEAD + headerLength).toString('utf8'))
    const reqBody = bytes.subarray(at + HEAD + headerLength, at + HEAD + headerLength + reqLength)
    const resBody = bytes.subarray(end - resLength, end)
    exchanges.push({
      ...header,
      request: { ...header.request, body: { ...header.request.body, chunks: [reqBody] } },
      response: header.response
        ? { ...header.response, body: { ...header.response.body, chunks: [resBody] } }
        : undefined,
    })
    at = end
  }
  return { exchanges, torn: false }
}

export class Journal {
  private readonly segments = new Map<number, Segment>()
  private active: Segment | undefined
  private handle: FileHandle | undefined
  private pending: Buffer[] = []
  private totalBytes = 0
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> = Promise.resolve()
  private readonly removals = new Set<Promise<void>>()
  private closed = false

  constructor(
    private readonly options: JournalOptions,
    private readonly onError: (err: unknown) => void,
  ) {}

  /**
   * Creates the folder and starts a fresh segment after those left by an earlier run, which are
   * returned (oldest first) to be replayed; each is removed with forget() once replayed.
   */
  async open(): Promise<string[]> {
    await mkdir(this.options.dir, { recursive: true })
    const names = (await readdir(this.options.dir)).filter((name) => SEGMENT.test(name)).sort()
    const last = names.length === 0 ? 0 : Number(SEGMENT.exec(names.at(-1)!)![1])
    await this.startSegment(last + 1)
    this.timer = setInterval(() => void this.flush(), this.options.syncIntervalMs)
    this.timer.unref()
    return names.map((name) => path.join(this.options.dir, name))
  }

  /** The exchanges of a segment an earlier run left. */
  async read(file: string): Promise<{ exchanges: Exchange[]; torn: boolean }> {
    return decodeSegment(await readFile(file))
  }

  /** Removes a segment of an earlier run once its entries are journaled again (and flushed). */
  async forget(file: string): Promise<void> {
    await this.flush()
    await unlink(file)
  }

  /** Journals the exchange (written at the next sync); null when the journal is full or closed. */
  append(exchange: Exchange): JournalEntry | null {
    const segment = this.active
    if (!segment || this.closed) return null
    const record = encode(exchange)
    const size = sizeOf(record)
    if (this.totalBytes + size > this.options.maxBytes) return null
    for (const buffer of record) this.pending.push(buffer)
    this.totalBytes += size
    segment.bytes += size
    segment.outstanding++
    return { segment: segment.seq }
  }

  /** The entry's turn is durable elsewhere (or dropped for good): its segment may go once all are. */
  settle(entry: JournalEntry): void {
    const segment = this.segments.get(entry.segment)
    if (!segment) return
    segment.outstanding--
    if (segment.closed && segment.outstanding === 0) this.remove(segment)
  }

  /** Open and not closed: append() journals (unless full). */
  get writable(): boolean {
    return this.active !== undefined && !this.closed
  }

  /** Bytes the journal holds (on disk and waiting to be written). */
  get bytes(): number {
    return this.totalBytes
  }

  /** Writes and fsyncs what was appended; rotates the segment past its size. Serialized. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending()).catch(this.onError)
    return this.flushing
  }

  /** Flushes, then removes every settled segment; what is still outstanding stays for the next start. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    await this.flush()
    await this.handle?.close()
    this.handle = undefined
    const active = this.active
    if (active) {
      active.closed = true
      if (active.outstanding === 0) this.remove(active)
    }
    await Promise.all([...this.removals])
  }

  private async writePending(): Promise<void> {
    if (this.pending.length > 0 && this.handle) {
      const buffers = this.pending
      this.pending = []
      await this.handle.writev(buffers)
      await this.handle.datasync()
    }
    const active = this.active
    if (active && !this.closed && active.bytes >= this.options.segmentBytes) {
      await this.handle?.close()
      active.closed = true
      if (active.outstanding === 0) this.remove(active)
      await this.startSegment(active.seq + 1)
    }
  }

  private async startSegment(seq: number): Promise<void> {
    const file = path.join(this.options.dir, `journal-${String(seq).padStart(12, '0')}.bin`)
    this.handle = await open(file, 'a')
    const segment: Segment = { seq, file, bytes: 0, outstanding: 0, closed: false }
    this.segments.set(seq, segment)
    this.active = segment
  }

  private remove(segment: Segment): void {
    this.segments.delete(segment.seq)
    this.totalBytes -= segment.bytes
    const removal = unlink(segment.file).catch(this.onError)
    this.removals.add(removal)
    void removal.finally(() => this.removals.delete(removal))
  }
}
