/**
 * The ext_proc port over TLS and mTLS, for Envoy in another pod: a client that trusts the CA gets its
 * replies and the exchange is recorded; a plaintext client, or (with a client CA) a client without a
 * certificate, gets nothing. Certificates are made with the openssl CLI; without it the test says so.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { filterForMode } from '../../src/cli/replay.js'
import { extProcTls } from '../../src/cli/serve.js'
import { ConfigError, loadServeConfig } from '../../src/config/load.js'
import { type ClientTls, createExtProcClient } from '../../src/emulator/client.js'
import { runExchange } from '../../src/emulator/emulator.js'
import { emptyStats, type HttpExchangeSpec } from '../../src/emulator/types.js'
import type { Exchange } from '../../src/exchange.js'
import { createExtProcMetrics } from '../../src/extproc/metrics.js'
import { type ExtProcServer, type ExtProcTls, startExtProcServer } from '../../src/extproc/server.js'
import { silentLogger } from '../../src/log.js'

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (!hasOpenssl) console.warn('ext_proc TLS tests skipped: no openssl CLI to make test certificates')

const dir = mkdtempSync(path.join(os.tmpdir(), 'sessiontap-tls-'))
const file = (name: string) => path.join(dir, name)
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })

/** A CA, a server certificate for localhost / 127.0.0.1 and a client certificate, all P-256. */
function makeCertificates() {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca')
  writeFileSync(file('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  for (const [name, cn, ext] of [
    ['server', 'localhost', ['-extfile', 'san.ext']],
    ['client', 'envoy', []],
  ] as const) {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`)
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      ...ext,
    )
  }
}

const EXCHANGE: HttpExchangeSpec = {
  request: {
    method: 'POST',
    path: '/v1/messages',
    authority: 'api.anthropic.com',
    headers: [],
    body: Buffer.from('{}'),
  },
  response: { status: 200, headers: [], body: Buffer.from('{}') },
}

async function serve(tls: ExtProcTls) {
  const exchanges: Exchange[] = []
  const server = await startExtProcServer(
    { address: '127.0.0.1:0', captureMaxBytes: 1 << 20, stripHeaderPrefix: undefined, tls },
    {
      consumer: { consume: (e) => exchanges.push(e) },
      metrics: createExtProcMetrics(new Registry()),
      logger: silentLogger,
    },
  )
  return { server, exchanges }
}

async function play(address: string, tls?: ClientTls) {
  const client = createExtProcClient(address, tls)
  try {
    return await runExchange(
      client,
      { ...filterForMode('streamed'), messageTimeoutMs: 3000 },
      EXCHANGE,
      emptyStats(),
    )
  } finally {
    client.close()
  }
}

describe.skipIf(!hasOpenssl)('ext_proc over TLS', () => {
  let servers: ExtProcServer[] = []
  let ca: Buffer
  beforeAll(() => {
    makeCertificates()
    ca = readFileSync(file('ca.crt'))
  })
  afterAll(async () => {
    for (const s of servers) await s.shutdown(100)
    servers = []
  })

  it('serves a client that trusts its CA, and refuses a plaintext one', async () => {
    const { server, exchanges } = await serve({
      cert: readFileSync(file('server.crt')),
      key: readFileSync(file('server.key')),
    })
    servers.push(server)
    const ok = await play(server.address, { ca, serverName: 'localhost' })
    expect(ok.violations).toEqual([])
    expect(ok.localReply).toBeUndefined()
    expect(exchanges).toHaveLength(1)
    const plaintext = await play(server.address)
    expect(plaintext.localReply?.status).toBe(500)
    expect(exchanges).toHaveLength(1)
  })

  it('with a client CA, serves only clients with a certificate it signed (mTLS)', async () => {
    const { server, exchanges } = await serve({
      cert: readFileSync(file('server.crt')),
      key: readFileSync(file('server.key')),
      clientCa: ca,
    })
    servers.push(server)
    const anonymous = await play(server.address, { ca, serverName: 'localhost' })
    expect(anonymous.localReply?.status).toBe(500)
    const client = {
      ca,
      cert: readFileSync(file('client.crt')),
      key: readFileSync(file('client.key')),
      serverName: 'localhost',
    }
    const ok = await play(server.address, client)
    expect(ok.localReply).toBeUndefined()
    expect(exchanges).toHaveLength(1)
  })

  it('reads the files named by the options, and says when the pair is half given or unreadable', () => {
    const config = (env: Record<string, string>) => loadServeConfig(new Map(), env)
    expect(extProcTls(config({}))).toBeUndefined()
    const both = { SESSIONTAP_GRPC_TLS_CERT: file('server.crt'), SESSIONTAP_GRPC_TLS_KEY: file('server.key') }
    expect(extProcTls(config(both))?.cert.equals(readFileSync(file('server.crt')))).toBe(true)
    expect(() => extProcTls(config({ SESSIONTAP_GRPC_TLS_CERT: file('server.crt') }))).toThrow(ConfigError)
    expect(() => extProcTls(config({ ...both, SESSIONTAP_GRPC_TLS_CLIENT_CA: file('nope.crt') }))).toThrow(
      /cannot read the ext_proc TLS client CA/,
    )
  })
})
