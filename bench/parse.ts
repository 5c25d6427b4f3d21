/**
 * Provider parse throughput on ~10 MB bodies: an Anthropic SSE response and an OpenAI chat request
 * (parsed alone, then parsed and chain-hashed as a turn is), each next to a baseline of JSON.parse
 * plus SHA-256 over the same bytes (the least any recorder must do). Run: `npx tsx bench/parse.ts`.
 */
import { createHash } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { parseRequest, parseResponse } from '../src/providers/index.js'
import { buildChain } from '../src/session/chain.js'

const TARGET_BYTES = 10 * 1024 * 1024
const RUNS = 7

function anthropicSse(): Buffer {
  const events: string[] = [
    `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_b', model: 'claude', content: [], usage: { input_tokens: 10, output_tokens: 1 } } })}\n\n`,
    `event: content_block_start\ndata: ${JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })}\n\n`,
  ]
  let size = 0
  for (let i = 0; size < TARGET_BYTES; i++) {
    const delta = {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: `token ${i} — ünïcödé ` },
    }
    const event = `event: content_block_delta\ndata: ${JSON.stringify(delta)}\n\n`
    events.push(event)
    size += event.length
  }
  events.push(
    `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9000 } })}\n\n`,
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  )
  return Buffer.from(events.join(''), 'utf8')
}

function chatRequest(): Buffer {
  const messages: unknown[] = [{ role: 'system', content: 'You are a benchmark.' }]
  const filler = 'lorem ipsum dolor sit amet '.repeat(40)
  let size = 0
  for (let i = 0; size < TARGET_BYTES; i++) {
    const m =
      i % 3 === 2
        ? {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: `call_${i}`,
                type: 'function',
                function: { name: 'f', arguments: JSON.stringify({ i, filler }) },
              },
            ],
          }
        : { role: i % 3 === 0 ? 'user' : 'tool', tool_call_id: `call_${i - 1}`, content: `${i} ${filler}` }
    messages.push(m)
    size += filler.length + 80
  }
  return Buffer.from(JSON.stringify({ model: 'gpt-4o', stream: true, messages }), 'utf8')
}

/**
 * Median MB/s of `fn` over RUNS runs, per second of CPU time (user + system, all of the process's
 * threads, GC helpers included) rather than wall time: on a shared machine other work stretches
 * the wall clock, and CPU per byte is what competes with the thread answering Envoy.
 */
function measure(bytes: number, fn: () => void): number {
  const rates: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const start = process.cpuUsage()
    fn()
    const used = process.cpuUsage(start)
    rates.push(bytes / (1024 * 1024) / ((used.user + used.system) / 1e6))
  }
  rates.sort((a, b) => a - b)
  return rates[Math.floor(RUNS / 2)]!
}

function sha256(bytes: Buffer): void {
  createHash('sha256').update(bytes).digest()
}

export async function benchParse(): Promise<{
  rows: Array<{ name: string; mbPerSec: number; baselineMbPerSec: number }>
}> {
  const sse = anthropicSse()
  const request = chatRequest()

  const sseRate = measure(sse.length, () => {
    const r = parseResponse({
      api: 'anthropic.messages',
      status: 200,
      contentType: 'text/event-stream',
      body: sse,
      request: null,
    })
    if (!r.complete) throw new Error('benchmark stream did not parse completely')
  })
  // Baseline for SSE: hash the bytes and JSON.parse every data line, with no framing rules at all.
  const sseBaseline = measure(sse.length, () => {
    sha256(sse)
    for (const line of sse.toString('utf8').split('\n'))
      if (line.startsWith('data: ')) JSON.parse(line.slice(6))
  })

  const requestRate = measure(request.length, () => {
    const r = parseRequest('openai.chat', request, '/v1/chat/completions')
    if (!r.ok) throw new Error(r.reason)
  })
  const chainRate = measure(request.length, () => {
    const r = parseRequest('openai.chat', request, '/v1/chat/completions')
    if (!r.ok) throw new Error(r.reason)
    if (buildChain(r.value, null).nodes.length === 0) throw new Error('benchmark request hashed no node')
  })
  const requestBaseline = measure(request.length, () => {
    sha256(request)
    JSON.parse(request.toString('utf8'))
  })

  return {
    rows: [
      {
        name: `anthropic SSE response (${(sse.length / 1048576).toFixed(1)} MB)`,
        mbPerSec: sseRate,
        baselineMbPerSec: sseBaseline,
      },
      {
        name: `openai chat request (${(request.length / 1048576).toFixed(1)} MB)`,
        mbPerSec: requestRate,
        baselineMbPerSec: requestBaseline,
      },
      {
        name: 'openai chat request, parsed and hashed',
        mbPerSec: chainRate,
        baselineMbPerSec: requestBaseline,
      },
    ],
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { rows } = await benchParse()
  console.log(
    `${'body'.padEnd(40)} ${'parse MB/s'.padStart(11)} ${'baseline MB/s'.padStart(14)} ${'ratio'.padStart(6)}`,
  )
  for (const row of rows) {
    const ratio = row.mbPerSec / row.baselineMbPerSec
    console.log(
      `${row.name.padEnd(40)} ${row.mbPerSec.toFixed(1).padStart(11)} ${row.baselineMbPerSec.toFixed(1).padStart(14)} ${ratio.toFixed(2).padStart(6)}`,
    )
  }
}
