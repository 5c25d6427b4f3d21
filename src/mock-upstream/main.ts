/**
 * CLI for the mock LLM upstream, for the compose stack and benchmarks:
 * `node dist/src/mock-upstream/main.js --cases DIR [--cases DIR…] [--port 8080] [--host 0.0.0.0] [--pacing-ms 20]`
 */
import { parseArgs } from 'node:util'
import { z } from 'zod'
import { startMockUpstream } from './server.js'

const USAGE =
  'usage: mock-upstream --cases DIR [--cases DIR ...] [--port 8080] [--host 127.0.0.1] [--pacing-ms 10]'

const ARGS = z.object({
  cases: z.array(z.string().min(1)).min(1, USAGE),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  'pacing-ms': z.coerce.number().min(0).default(10),
})

const { values } = parseArgs({
  options: {
    cases: { type: 'string', multiple: true },
    port: { type: 'string' },
    host: { type: 'string' },
    'pacing-ms': { type: 'string' },
  },
})
const parsed = ARGS.safeParse(values)
if (!parsed.success) {
  process.stderr.write(`${z.prettifyError(parsed.error)}\n${USAGE}\n`)
  process.exit(2)
}
const options = parsed.data
const upstream = await startMockUpstream({
  casesDir: options.cases,
  port: options.port,
  host: options.host,
  pacingMs: options['pacing-ms'],
})
process.stderr.write(`mock upstream listening on ${upstream.url}\n`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    upstream.close().then(() => process.exit(0))
  })
}
