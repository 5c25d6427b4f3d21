/**
 * The mock upstream replays recorded cases byte for byte: the self-written fixtures always, the shared
 * corpus when it is present. Also case selection, 404s and the SSE pacing cut.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadCases } from '../../src/mock-upstream/cases.js'
import { splitEvents, splitForPacing } from '../../src/mock-upstream/pacing.js'
import { HEALTH_PATH, type MockUpstream, startMockUpstream } from '../../src/mock-upstream/server.js'
import { rawRequest } from './raw-http.js'

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/cases')
const CORPUS = path.resolve(process.cwd(), '../shared/corpus')
const FIXTURE_NAMES = readdirSync(FIXTURES).sort()

function recorded(dir: string, name: string) {
  const folder = path.join(dir, name)
  const headers = JSON.parse(readFileSync(path.join(folder, 'request.headers.json'), 'utf8'))
  const response = JSON.parse(readFileSync(path.join(folder, 'response.headers.json'), 'utf8'))
  return {
    path: headers.path as string,
    method: headers.method as string,
    request: readFileSync(path.join(folder, 'request.json')),
    status: response.status as number,
    contentType: response.content_type as string | null,
    contentEncoding: response.content_encoding as string | null,
    body: readFileSync(path.join(folder, 'response.body')),
  }
}

describe('mock upstream over the self-written fixtures', () => {
  let upstream: MockUpstream
  beforeAll(async () => {
    upstream = await startMockUpstream({ casesDir: FIXTURES, pacingMs: 1 })
  })
  afterAll(async () => {
    await upstream.close()
  })

  it('ships the three required fixture kinds', () => {
    expect(FIXTURE_NAMES).toEqual(
      expect.arrayContaining([
        'openai-chat-stream-usage',
        'anthropic-messages-stream',
        'openai-chat-nonstream',
      ]),
    )
  })

  it.each(FIXTURE_NAMES)('serves %s byte for byte with its recorded status and headers', async (name) => {
    const expected = recorded(FIXTURES, name)
    const response = await rawRequest(`${upstream.url}${expected.path}`, {
      method: expected.method,
      headers: { 'x-mock-case': name, 'content-type': 'application/json' },
      body: expected.request,
    })
    expect(response.status).toBe(expected.status)
    expect(response.headers['content-type']).toBe(expected.contentType)
    expect(response.headers['content-encoding']).toBe(expected.contentEncoding ?? undefined)
    expect(response.headers['x-mock-case']).toBe(name)
    expect(response.body.equals(expected.body)).toBe(true)
  })

  it('the gzip fixture really is gzip of a JSON message', async () => {
    const expected = recorded(FIXTURES, 'anthropic-messages-nonstream-gzip')
    const response = await rawRequest(`${upstream.url}/v1/messages`, { body: expected.request })
    expect(JSON.parse(gunzipSync(response.body).toString('utf8')).type).toBe('message')
  })

  it('recognises a replayed request body by its SHA-256, without the header', async () => {
    const expected = recorded(FIXTURES, 'openai-chat-nonstream')
    const response = await rawRequest(`${upstream.url}/v1/chat/completions`, { body: expected.request })
    expect(response.headers['x-mock-case']).toBe('openai-chat-nonstream')
    expect(response.body.equals(expected.body)).toBe(true)
  })

  it('answers a new body on a known path with a default case that matches its stream flag', async () => {
    const ask = (stream: boolean) =>
      rawRequest(`${upstream.url}/v1/chat/completions?ignored=1`, {
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'new' }], stream }),
      })
    expect((await ask(true)).headers['x-mock-case']).toBe('openai-chat-stream-usage')
    expect((await ask(false)).headers['x-mock-case']).toBe('openai-chat-nonstream')
  })

  it('answers 404 JSON for an unknown path and for an unknown case name', async () => {
    const unknownPath = await rawRequest(`${upstream.url}/v2/nothing`, { body: '{}' })
    expect(unknownPath.status).toBe(404)
    expect(JSON.parse(unknownPath.body.toString('utf8')).error.type).toBe('mock_case_not_found')
    const unknownCase = await rawRequest(`${upstream.url}/v1/messages`, {
      headers: { 'x-mock-case': 'no-such-case' },
      body: '{}',
    })
    expect(unknownCase.status).toBe(404)
    expect(unknownCase.body.toString('utf8')).toContain('no-such-case')
  })

  it('reports its case count on the health path', async () => {
    const response = await rawRequest(`${upstream.url}${HEALTH_PATH}`, { method: 'GET' })
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body.toString('utf8'))).toEqual({ status: 'ok', cases: FIXTURE_NAMES.length })
  })
})

describe('case loading', () => {
  it('accepts a single case folder as well as a folder of cases', () => {
    const one = loadCases([path.join(FIXTURES, 'anthropic-messages-stream')])
    expect(one.map((c) => c.name)).toEqual(['anthropic-messages-stream'])
    expect(loadCases([FIXTURES]).map((c) => c.name)).toEqual(FIXTURE_NAMES)
  })

  it('drops hop-by-hop headers and keeps the recorded content-encoding', () => {
    const [gzipCase] = loadCases([path.join(FIXTURES, 'anthropic-messages-nonstream-gzip')])
    expect(gzipCase?.headers['transfer-encoding']).toBeUndefined()
    expect(gzipCase?.headers['content-encoding']).toBe('gzip')
  })
})

describe('pacing', () => {
  it('cuts SSE after each event, and the pieces rebuild the body exactly', () => {
    const body = Buffer.from('event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\ndata: tail-without-end')
    const pieces = splitEvents(body)
    expect(pieces.map((piece) => piece.toString())).toEqual([
      'event: a\ndata: 1\n\n',
      'event: b\r\ndata: 2\r\n\r\n',
      'data: tail-without-end',
    ])
    expect(Buffer.concat(pieces).equals(body)).toBe(true)
  })

  it('cuts each self-written SSE fixture into one piece per event', () => {
    const body = readFileSync(path.join(FIXTURES, 'anthropic-messages-stream/response.body'))
    const pieces = splitForPacing(body, 'text/event-stream; charset=utf-8', undefined)
    expect(pieces).toHaveLength(body.toString('utf8').split('\n\n').length - 1)
    expect(pieces.every((piece) => piece.toString('utf8').startsWith('event: '))).toBe(true)
  })

  it('slices compressed streams and sends other bodies whole', () => {
    const body = Buffer.alloc(600, 1)
    expect(splitForPacing(body, 'text/event-stream', 'gzip').map((p) => p.length)).toEqual([256, 256, 88])
    expect(splitForPacing(body, 'application/json', undefined)).toEqual([body])
  })
})

describe.skipIf(!existsSync(CORPUS))('mock upstream over the shared corpus', () => {
  const names = existsSync(CORPUS)
    ? readdirSync(CORPUS).filter((name) => existsSync(path.join(CORPUS, name, 'response.body')))
    : []
  let upstream: MockUpstream
  beforeAll(async () => {
    upstream = await startMockUpstream({ casesDir: CORPUS, pacingMs: 0 })
  })
  afterAll(async () => {
    await upstream.close()
  })

  it.each(names)('serves %s byte for byte, selected by its request body alone', async (name) => {
    const expected = recorded(CORPUS, name)
    const response = await rawRequest(`${upstream.url}${expected.path}`, {
      method: expected.method,
      body: expected.request,
    })
    expect(response.status).toBe(expected.status)
    expect(response.body.equals(expected.body)).toBe(true)
  })
})

if (!existsSync(CORPUS)) console.log(`mock-upstream corpus tests skipped: ${CORPUS} is absent`)
