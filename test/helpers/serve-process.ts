/**
 * `sessiontap serve` as its own process, started the way `npm start` starts it (the same entry
 * point and default options; from the TypeScript sources, so no build is needed), on free ports.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')

export interface ServeProcess {
  child: import('node:child_process').ChildProcess
  /** The ext_proc and admin addresses, once both servers listen; rejects if the process exits first. */
  addresses: Promise<{ grpc: string; http: string }>
  exited: Promise<number | null>
  /** Its log lines (stderr) so far. */
  lines: string[]
  /** What it printed on standard output so far (the startup text a person reads). */
  stdout: () => string
}

/** `env` adds to the process environment: SESSIONTAP_DATA_DIR, DATABASE_URL, other settings. */
export function startServe(env: Record<string, string>): ServeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SESSIONTAP_GRPC_ADDRESS: '127.0.0.1:0',
      SESSIONTAP_HTTP_ADDRESS: '127.0.0.1:0',
      SESSIONTAP_LOG_LEVEL: 'info',
      ...env,
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

/** Polls the admin /metrics until `name` (a counter without labels) reaches `value`. */
export async function waitForCounter(http: string, name: string, value: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const metrics = await (await fetch(`http://${http}/metrics`)).text()
    const current = Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0)
    if (current >= value) return current
    if (Date.now() > deadline) throw new Error(`${name} stayed at ${current}, expected ${value}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
