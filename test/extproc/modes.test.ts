import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterForMode, REPLAY_MODES } from '../../src/cli/replay.js'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import { startTestServer, type TestServer } from '../helpers/extproc.js'
import { assertRoundTrip } from './round-trip.js'

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/cases')

describe('ext_proc server driven by the Envoy emulator, self-written fixtures', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  const cases = loadExchangeCases([FIXTURES])

  it('has fixtures to play', () => {
    expect(cases.length).toBeGreaterThanOrEqual(3)
  })

  for (const mode of REPLAY_MODES) {
    for (const seed of [1, 2, 3]) {
      it(`${mode} mode, random chunking seed ${seed}: every reply in order, bodies intact, capture exact`, async () => {
        const cfg = {
          ...filterForMode(mode),
          messageTimeoutMs: 5000,
          deferredCloseMs: 2000,
          chunking: { kind: 'random' as const, seed: seed * 1000, maxChunk: 64 },
        }
        await assertRoundTrip(server, cfg, cases)
      })
    }
  }

  it('1-byte chunks in STREAMED mode', async () => {
    const cfg = {
      ...filterForMode('streamed'),
      messageTimeoutMs: 5000,
      chunking: { kind: 'fixed' as const, size: 1 },
    }
    await assertRoundTrip(server, cfg, cases)
  })
})
