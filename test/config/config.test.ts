import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCommandLine } from '../../src/cli/args.js'
import { run } from '../../src/cli/run.js'
import { SERVE_COMMAND } from '../../src/cli/serve.js'
import { ConfigError, loadServeConfig, optionsMarkdown } from '../../src/config/load.js'
import { SERVE_OPTIONS } from '../../src/config/options.js'

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadServeConfig(new Map(), {})
    expect(c).toMatchObject({
      grpcAddress: '127.0.0.1:50051',
      httpAddress: '127.0.0.1:9090',
      dataDir: './.sessiontap',
      logLevel: 'info',
      captureMaxBytes: 32 * 1024 * 1024,
      stripEnvelopeHeaders: true,
      allowClientOrg: false,
    })
    expect(c.databaseUrl).toBeUndefined()
  })

  it('takes environment variables, and flags over them', () => {
    const { flags } = parseCommandLine(SERVE_COMMAND, [
      '--log-level',
      'debug',
      '--no-migrate',
      '--grpc-address=0.0.0.0:6000',
      '--store-content=false',
    ])
    const c = loadServeConfig(flags, {
      SESSIONTAP_LOG_LEVEL: 'warn',
      SESSIONTAP_WRITERS: '2',
      DATABASE_URL: 'postgres://u@h/db',
    })
    expect(c).toMatchObject({
      logLevel: 'debug',
      migrate: false,
      grpcAddress: '0.0.0.0:6000',
      storeContent: false,
      writers: 2,
      databaseUrl: 'postgres://u@h/db',
    })
  })

  it('redacts by default and takes extra patterns as a JSON object, refusing one that does not compile', () => {
    expect(loadServeConfig(new Map(), {})).toMatchObject({ redact: true, redactPatterns: [] })
    expect(
      loadServeConfig(new Map(), { SESSIONTAP_REDACT_PATTERNS: '{"acme_key":"ACME-[0-9]{8}"}' }),
    ).toMatchObject({
      redactPatterns: [{ kind: 'acme_key', source: 'ACME-[0-9]{8}' }],
    })
    for (const [value, message] of [
      ['["ACME"]', /"kind": "regular expression"/],
      ['{"broken":"([a-z"}', /redaction pattern broken: /],
      ['not json', /not JSON/],
    ] as const) {
      try {
        loadServeConfig(new Map(), { SESSIONTAP_REDACT_PATTERNS: value })
        expect.unreachable()
      } catch (e) {
        expect((e as ConfigError).problems[0]).toMatch(message)
      }
    }
  })

  it('reports every bad value at once, one line each, naming the variable or flag', () => {
    try {
      loadServeConfig(parseCommandLine(SERVE_COMMAND, ['--writers', 'many', '--migrate=maybe']).flags, {
        SESSIONTAP_GRPC_ADDRESS: 'nowhere',
      })
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError)
      const problems = (e as ConfigError).problems
      expect(problems).toHaveLength(3)
      expect(problems[0]).toMatch(/^invalid SESSIONTAP_GRPC_ADDRESS="nowhere": /)
      expect(problems.some((p) => p.startsWith('invalid --writers="many"'))).toBe(true)
      expect(problems.some((p) => p.startsWith('invalid --migrate="maybe"'))).toBe(true)
      for (const p of problems) expect(p).not.toContain('\n')
    }
  })

  it('never echoes a credential-bearing value in an error', () => {
    expect(() => loadServeConfig(new Map(), { DATABASE_URL: 'not a url with hunter2' })).toThrow(
      /invalid DATABASE_URL=\(value hidden\)/,
    )
    try {
      loadServeConfig(new Map(), { DATABASE_URL: 'not a url with hunter2' })
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2')
    }
  })

  it('the README configuration reference is generated from the same declarations', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8')
    expect(readme).toContain(optionsMarkdown(SERVE_OPTIONS))
  })

  it('sessiontap help serve documents every option; a bad value exits 2 with one line', async () => {
    const out: string[] = []
    expect(await run(['help', 'serve'], {}, (s) => out.push(s))).toBe(0)
    for (const spec of Object.values(SERVE_OPTIONS)) {
      expect(out[0]).toContain(spec.flag.slice(2))
      expect(out[0]).toContain(spec.env)
    }
    const err: string[] = []
    expect(
      await run(
        ['serve'],
        { SESSIONTAP_LOG_LEVEL: 'loud' },
        () => {},
        (s) => err.push(s),
      ),
    ).toBe(2)
    expect(err).toHaveLength(1)
    expect(err[0]).toMatch(/^sessiontap serve: invalid SESSIONTAP_LOG_LEVEL="loud"/)
  })
})
