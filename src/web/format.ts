/**
 * Number and time formatting for the page: tokens with separators, USD with enough digits to be
 * non-zero, latencies in ms or s, timestamps in UTC.
 */

export function formatCount(n: number | null): string {
  return n === null ? '–' : n.toLocaleString('en-US')
}

export function formatUsd(usd: number | null): string {
  if (usd === null) return '–'
  if (usd === 0) return '$0'
  return `$${usd >= 0.01 ? usd.toFixed(usd >= 100 ? 2 : 4) : usd.toPrecision(2)}`
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '–'
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** `2026-01-01T10:00:00.000Z` → `2026-01-01 10:00:00 UTC`. */
export function formatTime(iso: string | null): string {
  return iso === null ? '–' : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`
}
