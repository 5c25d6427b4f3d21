import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterForMode, REPLAY_MODES } from '../../src/cli/replay.js'
import { loadExchangeCases } from '../../src/emulator/cases.js'
import { CORPUS_DIR, CORPUS_PRESENT, noteCorpusSkip } from '../helpers/corpus.js'
import { startTestServer, type TestServer } from '../helpers/extproc.js'
import { assertRoundTrip } from './round-trip.js'

noteCorpusSkip('ext_proc corpus round trip')

describe.skipIf(!CORPUS_PRESENT)('ext_proc server over every recorded exchange in ../shared/corpus', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  const cases = CORPUS_PRESENT ? loadExchangeCases([CORPUS_DIR]) : []

  it('finds the 41 recorded exchanges', () => {
    expect(cases.length).toBe(41)
  })

  for (const mode of REPLAY_MODES) {
    it(`${mode} mode with random chunk boundaries`, async () => {
      const cfg = {
        ...filterForMode(mode),
        messageTimeoutMs: 10_000,
        deferredCloseMs: 2000,
        chunking: { kind: 'random' as const, seed: 42 },
      }
      await assertRoundTrip(server, cfg, cases)
    })
  }
})
