#!/usr/bin/env node
/** Entry point: everything lives in cli/run.ts so it can be tested without a process. */
import { run } from './cli/run.js'

run(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`sessiontap: ${(err as Error).stack ?? err}\n`)
    process.exitCode = 1
  },
)
