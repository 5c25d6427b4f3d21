/**
 * Append-only JSON-lines file with serialized async writes (the spool and the dead-letter file).
 * Writes never run concurrently, so a line is never interleaved with another; sync() makes them durable.
 */
import { type FileHandle, open } from 'node:fs/promises'

export class JsonlAppender {
  private handle: FileHandle | undefined
  private tail: Promise<unknown> = Promise.resolve()

  constructor(readonly path: string) {}

  /** Appends one JSON line per record, in one write. Resolves when the bytes are in the file. */
  append(records: readonly unknown[]): Promise<void> {
    const text = records.map((r) => `${JSON.stringify(r)}\n`).join('')
    return this.serialized(async () => {
      this.handle ??= await open(this.path, 'a', 0o600)
      await this.handle.appendFile(text, 'utf8')
    })
  }

  /** fsync: the appended lines survive a crash of the machine. */
  sync(): Promise<void> {
    return this.serialized(async () => {
      await this.handle?.sync()
    })
  }

  /**
   * Runs `fn` between writes with the file closed, e.g. to rename it away: the next append then
   * reopens the path instead of following the renamed file.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serialized(async () => {
      await this.closeHandle()
      return fn()
    })
  }

  close(): Promise<void> {
    return this.serialized(async () => {
      await this.handle?.sync()
      await this.closeHandle()
    })
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle
    this.handle = undefined
    await handle?.close()
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn)
    // A failed write must not poison the writes after it; the caller of this one sees the error.
    this.tail = run.catch(() => {})
    return run
  }
}
