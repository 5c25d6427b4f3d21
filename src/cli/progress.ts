/**
 * Progress of long CLI work on standard error: one line rewritten in place (count, rate, ETA) when it
 * is a terminal, nothing when it is piped or redirected, so scripts and --json output on standard
 * output never see it.
 */

export interface ProgressStream {
  isTTY?: boolean
  write(text: string): unknown
}

export interface Progress {
  /** `amount` more of the total are done. */
  advance(amount?: number): void
  /** Says what is happening now, for steps that have no count. */
  phase(text: string): void
  /** Removes the line; later output starts on a clean line. */
  done(): void
}

export interface ProgressOptions {
  /** What is counted: `exchanges`, `bytes` (shown as KiB/MiB). */
  unit: string
  total: number
  stream?: ProgressStream
  /** Milliseconds between redraws. */
  intervalMs?: number
  now?: () => number
}

const QUIET: Progress = { advance() {}, phase() {}, done() {} }

function amount(n: number, unit: string): string {
  if (unit !== 'bytes') return `${Math.round(n).toLocaleString('en-US')}`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.ceil(seconds)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/**
 * The line shown after `done` of `total` in `elapsedMs`: `120/400 exchanges (30%)  35.2/s  ETA 8s`;
 * without a total (standard input) just the count and the rate.
 */
export function progressLine(label: string, done: number, total: number, unit: string, elapsedMs: number) {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
  const suffix = unit === 'bytes' ? '' : ` ${unit}`
  const rateText = unit === 'bytes' ? `${amount(rate, unit)}/s` : `${rate.toFixed(1)}/s`
  if (total <= 0) return `${label} ${amount(done, unit)}${suffix}  ${rateText}`
  const left = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY
  const percent = Math.floor((done * 100) / total)
  return `${label} ${amount(done, unit)}/${amount(total, unit)}${suffix} (${percent}%)  ${rateText}  ETA ${duration(left)}`
}

export function createProgress(label: string, options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr
  if (!stream.isTTY) return QUIET
  const now = options.now ?? (() => performance.now())
  const intervalMs = options.intervalMs ?? 100
  const started = now()
  let done = 0
  let drawnAt = Number.NEGATIVE_INFINITY
  let drawn = false
  const draw = (text: string) => {
    stream.write(`\r\x1b[2K${text}`)
    drawn = true
  }
  return {
    advance(n = 1) {
      done += n
      const t = now()
      if (t - drawnAt < intervalMs && done !== options.total) return
      drawnAt = t
      draw(progressLine(label, done, options.total, options.unit, t - started))
    },
    phase(text) {
      draw(`${label} ${text}`)
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K')
      drawn = false
    },
  }
}
