/**
 * The per-turn chart of the session page as inline SVG (no script): stacked input/output token
 * bars on the left axis, cost as a line on the right axis, error turns marked in red.
 */
import type { TurnRecord } from '../store/read/index.js'
import { formatCount, formatMs, formatUsd } from './format.js'
import { html, type SafeHtml } from './html.js'

const WIDTH = 960
const HEIGHT = 260
const LEFT = 64
const RIGHT = 72
const TOP = 24
const BOTTOM = 36
const PLOT_W = WIDTH - LEFT - RIGHT
const PLOT_H = HEIGHT - TOP - BOTTOM

const round = (n: number): string => (Math.round(n * 10) / 10).toString()

/** About `count` turn indexes to label on the x axis, always the first and the last. */
function xTicks(n: number, count = 8): number[] {
  const step = Math.max(1, Math.ceil(n / count))
  const ticks: number[] = []
  for (let i = 0; i < n; i += step) ticks.push(i)
  if (ticks.at(-1) !== n - 1) ticks.push(n - 1)
  return ticks
}

export function turnsChart(turns: readonly TurnRecord[]): SafeHtml {
  if (turns.length === 0) return html`<p class="muted">No turns yet.</p>`
  const band = PLOT_W / turns.length
  const barW = Math.max(1, band * 0.7)
  const tokensOf = (t: TurnRecord) => (t.usage.input ?? 0) + (t.usage.output ?? 0)
  const maxTokens = Math.max(1, ...turns.map(tokensOf))
  const maxCost = Math.max(0, ...turns.map((t) => t.costUsd ?? 0))
  const yTokens = (n: number) => TOP + PLOT_H - (n / maxTokens) * PLOT_H
  const yCost = (usd: number) => TOP + PLOT_H - (maxCost > 0 ? (usd / maxCost) * PLOT_H : 0)
  const xMid = (i: number) => LEFT + band * i + band / 2

  const bars = turns.map((t, i) => {
    const x = round(xMid(i) - barW / 2)
    const input = t.usage.input ?? 0
    const yIn = yTokens(input)
    const yAll = yTokens(tokensOf(t))
    const label = `turn ${t.turnIndex}: ${formatCount(t.usage.input)} input, ${formatCount(t.usage.output)} output tokens, ${formatUsd(t.costUsd)}, ${formatMs(t.latencyMs)}${t.isError ? ', error' : ''}`
    return html`<g class="${t.isError ? 'bar error' : 'bar'}"><title>${label}</title>
<rect x="${x}" y="${round(yIn)}" width="${round(barW)}" height="${round(TOP + PLOT_H - yIn)}" fill="#7aa7d9"/>
<rect x="${x}" y="${round(yAll)}" width="${round(barW)}" height="${round(yIn - yAll)}" fill="#2f5f98"/>
${t.isError ? html`<rect x="${x}" y="${TOP + PLOT_H + 3}" width="${round(barW)}" height="5" fill="#c62828"/>` : ''}</g>`
  })
  const costPoints = turns.flatMap((t, i) =>
    t.costUsd === null ? [] : [{ x: round(xMid(i)), y: round(yCost(t.costUsd)) }],
  )
  const ticks = xTicks(turns.length).map(
    (i) =>
      html`<text x="${round(xMid(i))}" y="${HEIGHT - 14}" text-anchor="middle">${turns[i]!.turnIndex}</text>`,
  )
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="tokens and cost per turn" xmlns="http://www.w3.org/2000/svg">
<rect x="${LEFT}" y="${TOP}" width="${PLOT_W}" height="${PLOT_H}" fill="#fafbfc" stroke="#d0d7de"/>
${bars}
${costPoints.length > 0 ? html`<polyline points="${costPoints.map((p) => `${p.x},${p.y}`).join(' ')}" fill="none" stroke="#e07b00" stroke-width="2"/>` : ''}
${costPoints.map((p) => html`<circle cx="${p.x}" cy="${p.y}" r="2.5" fill="#e07b00"/>`)}
<g class="axis" font-size="11" fill="#57606a">
<text x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end">${formatCount(maxTokens)}</text>
<text x="${LEFT - 6}" y="${TOP + PLOT_H}" text-anchor="end">0</text>
<text x="${WIDTH - RIGHT + 6}" y="${TOP + 4}">${formatUsd(maxCost)}</text>
<text x="${WIDTH - RIGHT + 6}" y="${TOP + PLOT_H}">$0</text>
${ticks}
<text x="${LEFT + PLOT_W / 2}" y="${HEIGHT - 1}" text-anchor="middle">turn</text>
</g>
<g font-size="11" fill="#24292f">
<rect x="${LEFT}" y="6" width="10" height="10" fill="#7aa7d9"/><text x="${LEFT + 14}" y="15">input tokens</text>
<rect x="${LEFT + 104}" y="6" width="10" height="10" fill="#2f5f98"/><text x="${LEFT + 118}" y="15">output tokens</text>
<line x1="${LEFT + 216}" y1="11" x2="${LEFT + 232}" y2="11" stroke="#e07b00" stroke-width="2"/><text x="${LEFT + 236}" y="15">cost (right axis)</text>
<rect x="${LEFT + 350}" y="6" width="10" height="10" fill="#c62828"/><text x="${LEFT + 364}" y="15">error</text>
</g>
</svg>`
}
