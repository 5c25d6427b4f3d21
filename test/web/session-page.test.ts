/**
 * The session page on a real Postgres: auth and escaping checked over plain HTTP, then the page
 * rendered in a real headless Chromium (skipped with a note when /usr/bin/chromium is absent):
 * visible turn rows, the error turn marked, the chart, no injected script run, and a screenshot.
 */
// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's innerText() is the visible text, which is what is asserted.
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../src/store/store.js'
import { type ReadServer, startReadServer } from '../api/admin-harness.js'
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js'
import { at, chain, makeTurn, rawBodies } from '../store/turn-factory.js'

const CHROMIUM = '/usr/bin/chromium'
const HAS_CHROMIUM = fs.existsSync(CHROMIUM)
if (!HAS_CHROMIUM) {
  console.warn(
    `session page browser test skipped: ${CHROMIUM} not found (install it: apt-get install -y chromium)`,
  )
}

const ORG = randomUUID()
const OTHER_ORG = randomUUID()
const TOKEN = 'page-token-0123456789abcdef'
const OTHER_TOKEN = 'page-token-other-0123456789'
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">refactor & ship'
const HOSTILE_ERROR = '<script>window.__pwned=2</script>upstream overloaded'
const VIEWPORT = { width: 1280, height: 900 }
const HOSTILE_REQUEST = '{"messages":[{"role":"user","content":"</pre><script>window.__pwned=3</script>"}]}'

/** Width and height from a PNG's IHDR chunk, or null when the bytes are not a PNG. */
function pngSize(bytes: Buffer): { width: number; height: number } | null {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature)) return null
  if (bytes.subarray(12, 16).toString('latin1') !== 'IHDR') return null
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

describe('session page', () => {
  let pg: TestPostgres
  let store: Store
  let server: ReadServer
  let sessionId = ''

  beforeAll(async () => {
    pg = await startTestPostgres()
    store = await openStore({ databaseUrl: pg.url, dataDir: 'unused' })
    server = await startReadServer(store, [
      { token: TOKEN, orgId: ORG },
      { token: OTHER_TOKEN, orgId: OTHER_ORG },
    ])
    const texts = [
      'Fix the flaky test',
      'Looking at it',
      'Run it again',
      'Done: it passes',
      'Ship it',
      '<b>ok</b>',
    ]
    for (let i = 0; i < 5; i++) {
      const failed = i === 2
      // The failed turn's request ends at a user message and has no response node.
      const nodes = chain(texts.slice(0, failed ? 5 : Math.min(2 * i + 2, texts.length)))
      const result = await store.ingest(
        makeTurn({
          envelope: { orgId: ORG, harnessSessionId: 'page-session', name: HOSTILE_NAME },
          startedAt: at(i),
          latencyMs: 800 + i * 700,
          costUsd: failed ? null : 0.002 * (i + 1),
          usage: {
            inputTokens: failed ? null : 1000 * (i + 1),
            outputTokens: failed ? null : 150 * (i + 1),
            cacheReadTokens: failed ? null : 500 * i,
            cacheCreationTokens: null,
            reasoningTokens: null,
            status: failed ? 'missing' : 'reported',
          },
          nodes,
          ...(i === 0 ? { rawBodies: rawBodies(HOSTILE_REQUEST, 'data: [DONE]\n\n') } : {}),
          ...(failed
            ? {
                statusCode: 529,
                errorType: 'overloaded_error',
                errorMessage: HOSTILE_ERROR,
                requestLeafHash: nodes.at(-1)!.hash,
                responseHash: null,
              }
            : {}),
        }),
      )
      sessionId = result.sessionId
    }
    await store.ingest(
      makeTurn({ envelope: { orgId: ORG, harnessSessionId: 'second-session', name: 'another one' } }),
    )
  })
  afterAll(async () => {
    await server?.close()
    await store?.close()
    await pg?.stop()
  })

  describe('over HTTP', () => {
    it('asks for a token with a sign-in form, never takes one from the URL, and signs in by POST', async () => {
      const anonymous = await fetch(`${server.baseUrl}/ui/sessions`)
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('content-type')).toContain('text/html')
      expect(await anonymous.text()).toContain('<form method="post" action="/ui/sign-in">')
      // A token in the URL would end up in logs and browser history: it is not accepted.
      const inUrl = await fetch(`${server.baseUrl}/ui/sessions?token=${TOKEN}`, { redirect: 'manual' })
      expect(inUrl.status).toBe(401)
      expect(inUrl.headers.get('set-cookie')).toBeNull()
      expect(await inUrl.text()).toContain('A token in the URL is not accepted')
      // Unauthenticated, a POST is refused for want of a token before its method is judged.
      expect((await fetch(`${server.baseUrl}/ui/sessions`, { method: 'POST' })).status).toBe(401)

      const signIn = (token: string) =>
        fetch(`${server.baseUrl}/ui/sign-in`, {
          method: 'POST',
          body: new URLSearchParams({ token }),
          redirect: 'manual',
        })
      const wrong = await signIn('wrong-token-0123456789')
      expect(wrong.status).toBe(401)
      expect(await wrong.text()).toContain('That token is not configured.')
      const tooBig = await fetch(`${server.baseUrl}/ui/sign-in`, {
        method: 'POST',
        body: 'token='.padEnd(10_000, 'x'),
      })
      expect(tooBig.status).toBe(401)

      const signedIn = await signIn(TOKEN)
      expect(signedIn.status).toBe(303)
      expect(signedIn.headers.get('location')).toBe('/ui/sessions')
      const cookie = signedIn.headers.get('set-cookie')!
      expect(cookie).toContain(`sessiontap_token=${TOKEN}`)
      expect(cookie).toContain('HttpOnly')
      expect(cookie).toContain('SameSite=Strict')
      const list = await fetch(`${server.baseUrl}/ui/sessions`, {
        headers: { cookie: cookie.split(';')[0]! },
      })
      expect(list.status).toBe(200)
      expect(list.headers.get('content-security-policy')).toContain("default-src 'none'")
      expect(await list.text()).toContain('another one')
    })

    it('escapes hostile names and error texts, and keeps other orgs out', async () => {
      const page = await fetch(`${server.baseUrl}/ui/sessions/${sessionId}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      const body = await page.text()
      expect(page.status).toBe(200)
      expect(body).not.toContain('<img src=x')
      expect(body).not.toContain('<script>')
      expect(body).not.toContain('<b>ok</b>')
      expect(body).toContain('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;refactor &amp; ship')
      expect(body).toContain('&lt;script&gt;window.__pwned=2&lt;/script&gt;upstream overloaded')
      const other = await fetch(`${server.baseUrl}/ui/sessions/${sessionId}`, {
        headers: { authorization: `Bearer ${OTHER_TOKEN}` },
      })
      expect(other.status).toBe(404)
      const bad = await fetch(`${server.baseUrl}/ui/sessions?sort=nope`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      expect(bad.status).toBe(400)
      expect(await bad.text()).toContain('sort')
    })

    it('links each turn to its raw bodies, shown escaped; a turn without them says so', async () => {
      const auth = { headers: { authorization: `Bearer ${TOKEN}` } }
      const session = await (await fetch(`${server.baseUrl}/ui/sessions/${sessionId}`, auth)).text()
      expect(session).toContain(`href="/ui/sessions/${sessionId}/turns/0/raw"`)
      const raw = await fetch(`${server.baseUrl}/ui/sessions/${sessionId}/turns/0/raw`, auth)
      const body = await raw.text()
      expect(raw.status).toBe(200)
      expect(body).not.toContain('<script>window.__pwned=3')
      expect(body).toContain('&lt;/pre&gt;&lt;script&gt;window.__pwned=3&lt;/script&gt;')
      expect(body).toContain('data: [DONE]')
      const without = await (
        await fetch(`${server.baseUrl}/ui/sessions/${sessionId}/turns/1/raw`, auth)
      ).text()
      expect(without).toContain('No raw bodies were stored for this turn')
      const other = await fetch(`${server.baseUrl}/ui/sessions/${sessionId}/turns/0/raw`, {
        headers: { authorization: `Bearer ${OTHER_TOKEN}` },
      })
      expect(other.status).toBe(404)
    })
  })

  describe.skipIf(!HAS_CHROMIUM)('in headless Chromium', () => {
    it('renders the timeline: turn rows, the error turn marked, the chart; takes a screenshot', async () => {
      const { chromium } = await import('playwright-core')
      const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiontap-chromium-'))
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: VIEWPORT,
        deviceScaleFactor: 1,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      })
      try {
        const page = context.pages()[0] ?? (await context.newPage())
        await page.goto(`${server.baseUrl}/ui/sessions`)
        await page.locator('input[name=token]').fill(TOKEN)
        await page.getByRole('button', { name: 'Sign in' }).click()
        await page.waitForURL(`${server.baseUrl}/ui/sessions`)
        const rows = page.locator('tr.session')
        expect(await rows.count()).toBe(2)
        await page.getByRole('link', { name: HOSTILE_NAME }).click()
        await page.waitForURL(`**/ui/sessions/${sessionId}`)

        expect(await page.locator('h1').innerText()).toBe(HOSTILE_NAME)
        const turns = page.locator('tr.turn')
        expect(await turns.count()).toBe(5)
        const failed = page.locator('tr.turn.error')
        expect(await failed.count()).toBe(1)
        expect(await failed.getAttribute('data-turn')).toBe('2')
        const failedText = await failed.innerText()
        expect(failedText).toContain('error')
        expect(failedText).toContain(`overloaded_error: ${HOSTILE_ERROR}`)
        expect(failedText).toContain('529')
        expect(await turns.nth(4).innerText()).toMatch(/5,000\s+750\s+2,000\s+\$0\.0100\s+3\.6 s/)
        expect(await page.locator('svg.chart g.bar').count()).toBe(5)
        expect(await page.locator('svg.chart g.bar.error').count()).toBe(1)
        expect(await page.locator('pre.transcript').innerText()).toContain('<b>ok</b>')
        expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()

        fs.mkdirSync('.tmp', { recursive: true })
        const file = path.join('.tmp', 'session-page.png')
        await page.screenshot({ path: file })
        const png = fs.readFileSync(file)
        expect(png.length).toBeGreaterThan(10_000)
        expect(pngSize(png)).toEqual(VIEWPORT)
      } finally {
        await context.close()
        fs.rmSync(profile, { recursive: true, force: true })
      }
    })
  })
})
