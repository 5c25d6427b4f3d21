/**
 * The crash journal on its own: exchanges round-trip through a segment byte for byte, a torn last
 * record ends the list, a rotated segment goes once every entry is settled, and what is unsettled at
 * close is handed back by the next open.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeSegment, Journal } from '../../src/recorder/journal.js'
import { body, exchange, OPENAI_STREAM, openaiRequest } from './exchanges.js'

const options = (dir: string, segmentBytes = 1 << 20) => ({
  dir,
  syncIntervalMs: 10_000,
  segmentBytes,
  maxBytes: 1 << 30,
})
const sample = (id: string) =>
  exchange({
    requestId: id,
    requestBody: body(openaiRequest(`question ${id}`)),
    responseBody: body(OPENAI_STREAM),
  })

describe('Journal', () => {
  it('writes exchanges that read back equal (bodies as one chunk), and reads up to a torn record', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-journal-'))
    const journal = new Journal(options(dir), (err) => {
      throw err
    })
    await journal.open()
    const written = [sample('a'), sample('b')]
    for (const e of written) expect(journal.append(e)).not.toBeNull()
    await journal.flush()
    const [file] = readdirSync(dir)
    const bytes = readFileSync(path.join(dir, file!))
    const { exchanges, torn } = decodeSegment(bytes)
    expect(torn).toBe(false)
    expect(exchanges.map((e) => e.requestId)).toEqual(['a', 'b'])
    expect(exchanges[0]!.request.body.chunks[0]!.equals(written[0]!.request.body.chunks[0]!)).toBe(true)
    expect(exchanges[1]!.response!.body.chunks[0]!.equals(OPENAI_STREAM)).toBe(true)
    expect({ ...exchanges[0], request: undefined, response: undefined }).toEqual({
      ...written[0],
      request: undefined,
      response: undefined,
    })
    // A crash in the middle of the second record leaves the first.
    const cut = decodeSegment(bytes.subarray(0, bytes.length - 10))
    expect(cut).toMatchObject({ torn: true, exchanges: [{ requestId: 'a' }] })
    await journal.close()
  })

  it('removes a rotated segment once every entry is settled, and keeps unsettled ones for the next open', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-journal-'))
    const journal = new Journal(options(dir, 100), (err) => {
      throw err
    })
    expect(await journal.open()).toEqual([])
    const first = journal.append(sample('a'))!
    await journal.flush() // past 100 bytes: the segment rotates
    const second = journal.append(sample('b'))!
    await journal.flush()
    expect(readdirSync(dir)).toHaveLength(3)
    journal.settle(first)
    for (let i = 0; i < 200 && readdirSync(dir).length > 2; i++) await new Promise((r) => setTimeout(r, 10))
    expect(readdirSync(dir)).toHaveLength(2)
    await journal.close()
    // 'b' was never settled: its segment stays and the next run gets it back.
    const next = new Journal(options(dir), (err) => {
      throw err
    })
    const leftovers = await next.open()
    const replayed = (await Promise.all(leftovers.map((f) => next.read(f)))).flatMap((r) => r.exchanges)
    expect(replayed.map((e) => e.requestId)).toEqual(['b'])
    for (const f of leftovers) await next.forget(f)
    expect(second.segment).toBeGreaterThan(first.segment)
    await next.close()
    expect(readdirSync(dir)).toEqual([])
  })

  it('refuses entries past its byte budget', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-journal-'))
    const journal = new Journal({ ...options(dir), maxBytes: 10 }, () => {})
    await journal.open()
    expect(journal.append(sample('a'))).toBeNull()
    writeFileSync(path.join(dir, 'unrelated.txt'), 'x')
    await journal.close()
    expect(readdirSync(dir)).toEqual(['unrelated.txt'])
  })
})
