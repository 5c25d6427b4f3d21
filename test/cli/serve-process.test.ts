import type { ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/run.js'
import { EMBEDDED_DURABILITY_WARNING } from '../../src/cli/serve.js'
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

    // What a newcomer sees on standard output: where it listens, where the data is, what to try.
    for (let i = 0; i < 100 && !first.stdout().includes('Stop with'); i++) await sleep(20)
    expect(first.stdout()).toContain('sessiontap is running')
    expect(first.stdout()).toContain(`ext_proc (gRPC)  ${grpc}`)
    expect(first.stdout()).toContain(`admin HTTP       http://${http}`)
    expect(first.stdout()).toContain(`embedded database in ${dataDir}`)
    expect(first.stdout()).toContain(`replay test/fixtures/cases --target ${grpc} --admin-address ${http}`)

    const replayCases = async () => {
      const out: string[] = []
      const code = await run(
        ['replay', path.join(ROOT, 'test/fixtures/cases'), '--target', grpc, '--admin-address', http],
        { SESSIONTAP_REPLAY_MESSAGE_TIMEOUT_MS: '5000' },
        (s) => out.push(s),
      )
      return { code, out: out.join('\n') }
    }
    const replayed = await replayCases()
    expect(replayed.code).toBe(0)
    expect(replayed.out).toMatch(/exchanges: 4 {2}violations: 0/)
    expect(replayed.out).toMatch(/^recorded: 4 new turn\(s\), 0 already recorded$/m)
    // Trying it again stores nothing new: the request ids are derived from the cases.
    const again = await replayCases()
    expect(again.out).toMatch(/^recorded: 0 new turn\(s\), 4 already recorded \(replayed before/m)

    const second = startServe({ SESSIONTAP_DATA_DIR: dataDir })
    children.push(second.child)
    await expect(second.addresses).rejects.toThrow(/data dir|lock|in use/i)

    // A read command on the sidecar's data says in one line to stop it or to read over HTTP.
    const err: string[] = []
    const listed = await run(
      ['sessions', 'list'],
      { SESSIONTAP_DATA_DIR: dataDir },
      () => {},
      (s) => err.push(s),
    )
    expect(listed).toBe(1)
    expect(err).toHaveLength(1)
    expect(err[0]).toMatch(
      /^sessiontap sessions list: data directory .* is in use by process .*stop the other process/,
    )
    expect(err[0]).toContain('read through its API or page (SESSIONTAP_API_TOKENS) instead')

    expect(await waitForCounter(http, 'sessiontap_recorder_committed_total', 4)).toBe(4)

    // Idle by now: it exits at once, not after the 10 s shutdown timeout.
    const signalled = performance.now()
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(performance.now() - signalled).toBeLessThan(5000)
    expect(first.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true)
    // The durability of the embedded default is said once, at start.
    expect(first.lines.filter((l) => l.includes(EMBEDDED_DURABILITY_WARNING))).toHaveLength(1)
  })
})
