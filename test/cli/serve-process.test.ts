import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { run } from '../../src/cli/run.js'

const ROOT = path.resolve(import.meta.dirname, '../..')

/** Starts `sessiontap serve` as its own process (from the TypeScript sources) and waits for its addresses. */
function startServe(dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SESSIONTAP_DATA_DIR: dataDir,
      SESSIONTAP_GRPC_ADDRESS: '127.0.0.1:0',
      SESSIONTAP_HTTP_ADDRESS: '127.0.0.1:0',
      SESSIONTAP_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let stdout = ''
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    stdout += text
  })
  const addresses = new Promise<{ grpc: string; http: string }>((resolve, reject) => {
    const found: Record<string, string> = {}
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n').filter(Boolean)) {
        lines.push(line)
        try {
          const entry = JSON.parse(line) as { msg: string; address?: string }
          if (entry.msg === 'ext_proc server listening') found.grpc = entry.address!
          if (entry.msg === 'admin HTTP server listening') found.http = entry.address!
          if (found.grpc && found.http) resolve({ grpc: found.grpc, http: found.http })
        } catch {
          // not a log line
        }
      }
    })
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${lines.join('\n')}`)))
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, addresses, exited, lines, stdout: () => stdout }
}

describe('sessiontap serve as a process, on its embedded default database', () => {
  const children: ChildProcess[] = []
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL')
  })

  it('serves, records a replay, refuses a second process on the same data, and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-serve-'))
    const first = startServe(dataDir)
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

    const second = startServe(dataDir)
    children.push(second.child)
    await expect(second.addresses).rejects.toThrow(/data dir|lock|in use/i)

    let committed = 0
    for (let i = 0; i < 100 && committed < 4; i++) {
      const metrics = await (await fetch(`http://${http}/metrics`)).text()
      committed = Number(/^sessiontap_recorder_committed_total (\d+)/m.exec(metrics)?.[1] ?? 0)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(committed).toBe(4)

    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    expect(first.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true)
  })
})
