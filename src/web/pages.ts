/**
 * The server-rendered HTML of the session page: the session list and one session as a timeline
 * (totals, per-turn chart, turn table, transcript). Every value goes through the escaping template.
 */
import type {
  SessionDetail,
  SessionPage,
  SessionRef,
  SessionSummary,
  TurnRecord,
} from '../store/read/index.js'
import type { RawBodyView, TurnRaw } from '../store/turn-bodies.js'
import { turnsChart } from './chart.js'
import { formatCount, formatMs, formatTime, formatUsd } from './format.js'
import { html, SafeHtml } from './html.js'

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f; margin: 0; background: #fff; }
header { background: #24292f; color: #fff; padding: 10px 24px; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
main { padding: 16px 24px 48px; max-width: 1280px; }
h1 { font-size: 20px; margin: 8px 0 12px; word-break: break-all; }
h2 { font-size: 16px; margin: 24px 0 8px; }
a { color: #0a58ca; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #d8dee4; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.error td { background: #fff0f0; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; font-weight: 600; }
.badge.error { background: #c62828; color: #fff; }
.badge.active { background: #1a7f37; color: #fff; }
.badge.ended { background: #8c959f; color: #fff; }
.muted { color: #57606a; }
.errtext { color: #a40e26; word-break: break-word; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { color: #57606a; } dl.meta dd { margin: 0; word-break: break-all; }
.totals { display: flex; flex-wrap: wrap; gap: 8px 24px; margin: 12px 0; }
.totals div { min-width: 110px; } .totals b { display: block; font-size: 18px; }
pre.transcript { background: #f6f8fa; padding: 12px; overflow: auto; max-height: 640px; white-space: pre-wrap; word-break: break-word; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 12px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #57606a; }
svg.chart { max-width: 100%; height: auto; }
`

export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · sessiontap</title><style>${new SafeHtml(STYLE)}</style></head>
<body><header><a href="/ui/sessions">sessiontap</a></header><main>${body}</main></body></html>`.value
}

function statusBadge(s: { status: string }): SafeHtml {
  return html`<span class="badge ${s.status === 'active' ? 'active' : 'ended'}">${s.status}</span>`
}

function sessionLink(s: SessionRef | SessionSummary): SafeHtml {
  return html`<a href="/ui/sessions/${encodeURIComponent(s.id)}">${s.name ?? s.harnessSessionId}</a>`
}

export interface ListView {
  page: SessionPage
  /** The query as given (filters, sort, order, limit), without the cursor. */
  query: URLSearchParams
}

function select(name: string, current: string | null, options: string[]): SafeHtml {
  return html`<select name="${name}">${options.map(
    (o) =>
      html`<option value="${o}"${o === (current ?? '') ? html` selected` : ''}>${o === '' ? 'any' : o}</option>`,
  )}</select>`
}

export function sessionListPage({ page, query }: ListView): string {
  const rows = page.sessions.map(
    (s) => html`<tr class="session">
<td>${sessionLink(s)}<div class="muted">${s.harnessId} · ${s.authSubject ?? 'no subject'}</div></td>
<td>${statusBadge(s)}</td>
<td class="num">${formatCount(s.turnCount)}</td>
<td class="num">${s.errorCount > 0 ? html`<span class="badge error">${s.errorCount}</span>` : '0'}</td>
<td class="num">${formatCount(s.tokens.input + s.tokens.output)}</td>
<td class="num">${formatUsd(s.costUsd)}</td>
<td>${s.lastModel ?? '–'}</td>
<td class="num">${formatTime(s.lastSeenAt)}</td></tr>`,
  )
  const next = new URLSearchParams(query)
  if (page.nextCursor) next.set('cursor', page.nextCursor)
  const field = (name: string, label: string) =>
    html`<label>${label}<input name="${name}" value="${query.get(name) ?? ''}"></label>`
  return layout(
    'Sessions',
    html`<h1>Sessions</h1>
<form class="filters" method="get" action="/ui/sessions">
${field('harness', 'harness')}${field('subject', 'subject')}
<label>status${select('status', query.get('status'), ['', 'active', 'ended'])}</label>
<label>sort${select('sort', query.get('sort') ?? 'last_seen', ['last_seen', 'cost', 'tokens', 'turns'])}</label>
<label>order${select('order', query.get('order') ?? 'desc', ['desc', 'asc'])}</label>
<button type="submit">Show</button></form>
<table><thead><tr><th>session</th><th>status</th><th class="num">turns</th><th class="num">errors</th>
<th class="num">tokens</th><th class="num">cost</th><th>model</th><th class="num">last seen</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="8" class="muted">No sessions.</td></tr>`}</tbody></table>
${page.nextCursor ? html`<p><a rel="next" href="/ui/sessions?${next.toString()}">Next page →</a></p>` : ''}`,
  )
}

export interface SessionView {
  session: SessionDetail
  turns: TurnRecord[]
  /** More turns exist than are shown. */
  turnsTruncated: boolean
  transcriptText: string
  /** The transcript was cut to fit the page; the full text is a link away. */
  transcriptTruncated: boolean
}

function turnRow(sessionId: string, t: TurnRecord): SafeHtml {
  const error = t.isError
    ? html`<span class="badge error">error</span> <span class="errtext">${[t.error?.type, t.error?.message].filter(Boolean).join(': ') || `HTTP ${t.statusCode}`}</span>`
    : ''
  return html`<tr class="${t.isError ? 'turn error' : 'turn'}" data-turn="${t.turnIndex}">
<td class="num">${t.turnIndex}</td><td class="num">${formatTime(t.startedAt)}</td>
<td>${t.responseModel ?? t.model ?? '–'}</td><td class="num">${t.statusCode ?? '–'}</td>
<td class="num">${formatCount(t.usage.input)}</td><td class="num">${formatCount(t.usage.output)}</td>
<td class="num">${formatCount(t.usage.cacheRead)}</td><td class="num">${formatUsd(t.costUsd)}</td>
<td class="num">${formatMs(t.latencyMs)}</td><td class="num">${formatMs(t.ttftMs)}</td>
<td>${t.stopReason ?? ''}${t.isComplete ? '' : html` <span class="muted">(incomplete)</span>`} ${error}</td>
<td><a href="/ui/sessions/${encodeURIComponent(sessionId)}/turns/${t.turnIndex}/raw">raw</a></td></tr>`
}

export function sessionPage(view: SessionView): string {
  const s = view.session
  const id = encodeURIComponent(s.id)
  const tokens = s.tokens
  const meta: Array<[string, unknown]> = [
    ['harness', `${s.harnessId}${s.harnessVersion ? ` ${s.harnessVersion}` : ''}`],
    ['harness session', s.harnessSessionId],
    ['session id', s.id],
    ['subject', s.authSubject ?? '–'],
    ['cwd', s.cwd ?? '–'],
    ['status', html`${statusBadge(s)}${s.endReason ? ` (${s.endReason})` : ''}`],
    ['started', formatTime(s.startedAt)],
    ['last seen', formatTime(s.lastSeenAt)],
    ['last model', s.lastModel ?? '–'],
    ['parent', s.parent ? sessionLink(s.parent) : '–'],
    [
      'children',
      s.childCount > 0
        ? html`${s.children.map((c, i) => html`${i > 0 ? ', ' : ''}${sessionLink(c)}`)}${
            s.childCount > s.children.length ? ` and ${s.childCount - s.children.length} more` : ''
          }`
        : '–',
    ],
  ]
  const total = (label: string, value: string) =>
    html`<div><span class="muted">${label}</span><b>${value}</b></div>`
  return layout(
    s.name ?? s.harnessSessionId,
    html`<p><a href="/ui/sessions">← all sessions</a></p>
<h1>${s.name ?? s.harnessSessionId}</h1>
<dl class="meta">${meta.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<div class="totals">${total('turns', formatCount(s.turnCount))}${total('errors', formatCount(s.errorCount))}
${total('input tokens', formatCount(tokens.input))}${total('output tokens', formatCount(tokens.output))}
${total('cache read', formatCount(tokens.cacheRead))}${total('cache write', formatCount(tokens.cacheCreation))}
${total('reasoning', formatCount(tokens.reasoning))}${total('cost', formatUsd(s.costUsd))}</div>
<h2>Tokens and cost per turn</h2>
${turnsChart(view.turns)}
<h2>Turns</h2>
<table class="turns"><thead><tr><th class="num">#</th><th class="num">started</th><th>model</th><th class="num">HTTP</th>
<th class="num">input</th><th class="num">output</th><th class="num">cache read</th><th class="num">cost</th>
<th class="num">latency</th><th class="num">TTFT</th><th>outcome</th><th>bodies</th></tr></thead>
<tbody>${view.turns.map((t) => turnRow(s.id, t))}</tbody></table>
${view.turnsTruncated ? html`<p class="muted">Only the first ${view.turns.length} turns are shown; GET /v1/sessions/${s.id}/turns pages through all.</p>` : ''}
<h2>Transcript</h2>
<p><a href="/ui/sessions/${id}/transcript">plain text</a></p>
<details open><summary>conversation${view.transcriptTruncated ? ' (cut; see plain text for all)' : ''}</summary>
<pre class="transcript">${view.transcriptText}</pre></details>`,
  )
}

export interface RawView {
  sessionId: string
  turn: TurnRaw
  /** Characters of each body shown; a longer body is cut, with a note. */
  maxChars: number
}

function rawSection(title: string, body: RawBodyView, maxChars: number): SafeHtml {
  const cut = body.text.length > maxChars
  const notes = [
    `${formatCount(body.size)} bytes`,
    body.truncated ? 'stored truncated' : '',
    cut ? `the first ${formatCount(maxChars)} characters are shown` : '',
  ].filter(Boolean)
  return html`<h2>${title}</h2><p class="muted">${notes.join(' · ')}</p>
<pre class="transcript raw">${cut ? body.text.slice(0, maxChars) : body.text}</pre>`
}

/** One turn's original request and response bodies, as text. */
export function rawPage({ sessionId, turn, maxChars }: RawView): string {
  const id = encodeURIComponent(sessionId)
  const title = `Turn ${turn.turnIndex}: raw bodies`
  return layout(
    title,
    html`<p><a href="/ui/sessions/${id}">← session</a></p>
<h1>${title}</h1>
<p class="muted">turn id ${turn.turnId} · the full bodies: GET /v1/sessions/${sessionId}/turns/${turn.turnId}/raw</p>
${
  turn.raw
    ? html`${rawSection('Request', turn.raw.request, maxChars)}${rawSection('Response', turn.raw.response, maxChars)}`
    : html`<p>No raw bodies were stored for this turn (SESSIONTAP_STORE_RAW or SESSIONTAP_STORE_CONTENT was off, or it was recorded before they were kept).</p>`
}`,
  )
}

export function messagePage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p>`)
}

/** The sign-in form: the token goes in a POST body, never in a URL (URLs end up in logs and history). */
export function signInPage(message: string): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1><p>${message}</p>
<form method="post" action="/ui/sign-in">
<label>API token <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`,
  )
}
