/**
 * Compression bombs stop early: a body may decode to at most LIMITS.decodedBodyBytes, and a compressed
 * one to at most LIMITS.decodedBodyRatio times its size (never less than the floor). Past either cap
 * decoding stops, and the exchange is dropped with its own reason.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { LIMITS } from '../../src/limits.js'
import { DEFAULT_PRICES } from '../../src/pricing/prices.js'
import { decodeBody, decodedCap } from '../../src/recorder/body-decoding.js'
import { buildTurn } from '../../src/recorder/turn-builder.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import { body, exchange, openaiRequest } from './exchanges.js'

const MiB = 1024 * 1024
/** 10 MB of zero bytes as `zstd -19` writes them: 326 bytes (made with the zstd CLI). */
const ZSTD_BOMB = readFileSync(path.resolve(import.meta.dirname, '../fixtures/bombs/zeros-10mb.zst'))

describe('decodedCap', () => {
  it('is the ratio times the compressed size, between the floor and the absolute cap', () => {
    expect(decodedCap(100)).toBe(LIMITS.decodedBodyFloorBytes)
    expect(decodedCap(100_000)).toBe(100_000 * LIMITS.decodedBodyRatio)
    expect(decodedCap(10 * MiB)).toBe(LIMITS.decodedBodyBytes)
  })
})

describe('decodeBody against bombs', () => {
  it('stops a gzip bomb at the ratio cap and says so', () => {
    const bomb = gzipSync(Buffer.alloc(200 * MiB))
    expect(bomb.length).toBeLessThan(300_000)
    const decoded = decodeBody([bomb], 'gzip')
    expect(decoded).toMatchObject({ overLimit: true, error: 'decoded body exceeds the output cap' })
    expect(decoded.bytes.length).toBe(0)
  })

  it('stops a zstd bomb the same way', () => {
    expect(ZSTD_BOMB.length).toBe(326)
    expect(decodeBody([ZSTD_BOMB], 'zstd')).toMatchObject({ overLimit: true })
  })

  it('decodes a large, very compressible body that stays within the ratio', () => {
    const text = Buffer.from(
      JSON.stringify({ messages: Array.from({ length: 20_000 }, (_, i) => `line ${i}`) }),
    )
    const decoded = decodeBody([gzipSync(text)], 'gzip')
    expect(decoded.error).toBeUndefined()
    expect(decoded.bytes.equals(text)).toBe(true)
  })
})

describe('buildTurn with a bomb', () => {
  it('drops the exchange as decoded_too_large, naming the side', () => {
    const options = { envelope: DEFAULT_ENVELOPE_OPTIONS, prices: DEFAULT_PRICES, storeContent: true }
    const bomb = gzipSync(Buffer.alloc(50 * MiB))
    const request = exchange({ requestBody: body(bomb, { encoding: 'gzip' }) })
    expect(buildTurn(request, options)).toEqual({ ok: false, reason: 'decoded_too_large', detail: 'request' })
    const response = exchange({
      requestBody: body(openaiRequest()),
      responseBody: body(ZSTD_BOMB, { encoding: 'zstd' }),
    })
    expect(buildTurn(response, options)).toEqual({
      ok: false,
      reason: 'decoded_too_large',
      detail: 'response',
    })
  })
})
