import type { ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/run.js'
import { startServe, waitForCounter } from '../helpers/serve-process.js'

const ROOT = path.resolve(import.meta.dirname, '../..')

describe('sessiontap serve as a process, on its embedded default database', () => {
  const children: ChildProcess[] = []
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL')
  })

  it('serves, records a replay, refuses a second process on the same data, and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-serve-'))
    const first = startServe({ SESSIONTAP_DATA_DIR: dataDir })
    children.push(first.child)
    const { grpc, http } = await first.addresses
    expect((await fetch(`http://${http}/healthz`)).status).toBe(200)
    expect((await fetch(`http://${http}/readyz`)).status).toBe(200)

    const out: string[] = []
    const code = await run(
      ['replay', path.join(ROOT, 'test/fixtures/cases'), '--target', grpc, '--message-timeout-ms', '5000'],
      {},
      (s) => out.push(s),
    )
    expect(code).toBe(0)
    expect(out.join('\n')).toMatch(/exchanges: \d+ {2}violations: 0/)

    const second = startServe({ SESSIONTAP_DATA_DIR: dataDir })
    children.push(second.child)
    await expect(second.addresses).rejects.toThrow(/data dir|lock|in use/i)

    expect(await waitForCounter(http, 'sessiontap_recorder_committed_total', 4)).toBe(4)

    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(first.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true)
  })
})
