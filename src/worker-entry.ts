/**
 * Starts a worker thread whose entry module sits beside the caller, from the build (`.js`) or from the
 * TypeScript sources under tsx (tests, `node --import tsx`). Node 20 applies `--import tsx` in a
 * worker only after the worker's entry has been resolved, so a `.ts` entry goes through a tiny
 * bootstrap that registers tsx first.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'

/** `callerUrl` is the caller's import.meta.url; `name` the entry's file name without its extension. */
export function startWorker(callerUrl: string, name: string, options: WorkerOptions): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options)
  const entry = new URL(`./${name}.ts`, callerUrl).href
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(bootstrap, { ...options, eval: true })
}
