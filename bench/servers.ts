/**
 * Starts a server under benchmark (the sidecar or the do-nothing baseline) as a child process
 * running compiled JS, and asks it for its stats over IPC.
 */
import { type ChildProcess, fork } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import type { ChildReply, ChildRequest, ChildStats, ReadyMessage } from './child-stats.js'

export interface BenchServer {
  readonly name: string
  readonly address: string
  readonly httpAddress: string | undefined
  readonly pid: number
  /** Stats since the last reset; `reset` starts a new window (event-loop max, peak RSS). */
  stats(reset?: boolean): Promise<ChildStats>
  stop(): Promise<void>
}

/**
 * Where allowed (root), the bench's processes run at a higher priority, so other work on a shared
 * machine preempts them less; both servers and the load generator get the same treatment.
 */
export function raisePriority(pid = 0): boolean {
  try {
    os.setPriority(pid, -10)
    return true
  } catch {
    return false
  }
}

export async function startBenchServer(
  name: string,
  entry: 'sidecar-server.js' | 'baseline-server.js',
  env: Record<string, string> = {},
  execArgv: string[] = [],
): Promise<BenchServer> {
  const child: ChildProcess = fork(fileURLToPath(new URL(`./${entry}`, import.meta.url)), {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  raisePriority(child.pid!)
  const waiting = new Map<number, (reply: Extract<ChildReply, { type: 'reply' }>) => void>()
  let nextId = 1
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code} before it was ready`)))
    child.on('message', (msg: ChildReply) => {
      if (msg.type === 'ready') resolve(msg)
      else waiting.get(msg.id)?.(msg)
    })
  })
  const ask = (request: ChildRequest) =>
    new Promise<Extract<ChildReply, { type: 'reply' }>>((resolve) => {
      waiting.set(request.id, resolve)
      child.send(request)
    })
  return {
    name,
    address: ready.address,
    httpAddress: ready.httpAddress,
    pid: child.pid!,
    async stats(reset = false) {
      const reply = await ask({ type: 'stats', id: nextId++, reset })
      return reply.stats!
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      await ask({ type: 'stop', id: nextId++ })
      await exited
    },
  }
}

/** Every counter and gauge of the sidecar's /metrics, summed over labels, from one scrape. */
async function scrape(httpAddress: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text()
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue
    const name = line.slice(0, line.search(/[{ ]/))
    values.set(name, (values.get(name) ?? 0) + Number(line.split(' ').at(-1)))
  }
  return values
}

/** Scrapes cost the sidecar a few ms of CPU each, so quietness is polled sparingly. */
const QUIET_POLL_MS = 250

/** Waits until the sidecar has parsed and settled every exchange it captured (nothing queued or committing). */
export async function waitQuiet(server: BenchServer, timeoutMs = 300_000): Promise<void> {
  const http = server.httpAddress
  if (!http) return
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const m = await scrape(http)
    const v = (name: string) => m.get(`sessiontap_${name}`) ?? 0
    const busy = v('extproc_streams_active') + v('recorder_parse_pending') + v('recorder_queue_depth')
    const settled =
      v('recorder_committed_total') +
      v('recorder_already_committed_total') +
      v('recorder_spooled_total') +
      v('recorder_dead_lettered_total')
    if (busy === 0 && settled >= v('recorder_turns_built_total')) return
    await new Promise((r) => setTimeout(r, QUIET_POLL_MS))
  }
  throw new Error(`${server.name} did not go quiet within ${timeoutMs} ms`)
}
