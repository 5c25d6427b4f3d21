/**
 * Starts a server under benchmark (the sidecar or the do-nothing baseline) as a child process
 * running compiled JS, and asks it for its stats over IPC.
 */
import { type ChildProcess, fork } from 'node:child_process'
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

/** Reads one counter or gauge (summed over its labels) from the sidecar's /metrics. */
export async function readMetric(httpAddress: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(' ').at(-1))
  }
  return sum
}

/** Waits until the sidecar has parsed and settled every exchange it captured (nothing queued or committing). */
export async function waitQuiet(server: BenchServer, timeoutMs = 300_000): Promise<void> {
  const http = server.httpAddress
  if (!http) return
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const [streams, parsing, queued, built, committed, repeated, spooled, dead] = await Promise.all(
      [
        'sessiontap_extproc_streams_active',
        'sessiontap_recorder_parse_pending',
        'sessiontap_recorder_queue_depth',
        'sessiontap_recorder_turns_built_total',
        'sessiontap_recorder_committed_total',
        'sessiontap_recorder_already_committed_total',
        'sessiontap_recorder_spooled_total',
        'sessiontap_recorder_dead_lettered_total',
      ].map((name) => readMetric(http, name)),
    )
    if (streams! + parsing! + queued! === 0 && committed! + repeated! + spooled! + dead! >= built!) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${server.name} did not go quiet within ${timeoutMs} ms`)
}
