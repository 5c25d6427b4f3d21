/**
 * The shipped Envoy configs, checked against Envoy's API protos (no Envoy binary needed), plus proof
 * that the checker catches typos and that the three files differ only where they are meant to.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { SERVE_OPTIONS } from '../../src/config/options.js'
import { DEFAULT_ENVELOPE_OPTIONS } from '../../src/session/envelope-options.js'
import { TAPES_HEADERS } from '../../src/session/tapes-headers.js'
import { checkEnvoyConfig, EnvoySchema, type SchemaIssue } from './envoy-schema.js'
import { NEWER_FIELDS } from './newer-fields.js'

const ENVOY_DIR = path.resolve(import.meta.dirname, '../../envoy')
const CONFIGS = ['envoy.yaml', 'envoy.sync.yaml', 'envoy.compose.yaml'] as const
const EXTPROC_REFERENCE = path.resolve(process.cwd(), '../shared/reference/extproc.md')

// biome-ignore lint/suspicious/noExplicitAny: a parsed YAML document is navigated and mutated freely here
type Doc = any

function load(name: string): Doc {
  return parse(readFileSync(path.join(ENVOY_DIR, name), 'utf8'))
}

function hcm(doc: Doc): Doc {
  return doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
}

function extProc(doc: Doc): Doc {
  return hcm(doc).http_filters.find((filter: Doc) => filter.name === 'envoy.filters.http.ext_proc')
    .typed_config
}

let schema: EnvoySchema
beforeAll(() => {
  schema = new EnvoySchema(NEWER_FIELDS)
})

describe('shipped Envoy configs', () => {
  it.each(CONFIGS)('%s resolves against the Envoy API protos', (name) => {
    expect(checkEnvoyConfig(schema, load(name))).toEqual([])
  })

  it('observability mode is the default and never waits; sync mode may only touch x-tapes-*', () => {
    const observe = extProc(load('envoy.yaml'))
    expect(observe.observability_mode).toBe(true)
    expect(observe.processing_mode.request_body_mode).toBe('STREAMED')
    expect(observe.processing_mode.response_body_mode).toBe('STREAMED')
    const sync = extProc(load('envoy.sync.yaml'))
    expect(sync.observability_mode).toBeUndefined()
    expect(sync.failure_mode_allow).toBe(true)
    expect(sync.mutation_rules).toEqual({ disallow_all: true, allow_expression: { regex: '^x-tapes-.*$' } })
  })

  it('envoy.sync.yaml equals envoy.yaml except for the ext_proc filter', () => {
    const observe = load('envoy.yaml')
    const sync = load('envoy.sync.yaml')
    expect(extProc(sync)).not.toEqual(extProc(observe))
    for (const doc of [observe, sync]) {
      const filter = hcm(doc).http_filters.find((f: Doc) => f.name === 'envoy.filters.http.ext_proc')
      filter.typed_config = 'compared above'
    }
    expect(sync).toEqual(observe)
  })

  it('envoy.compose.yaml keeps envoy.yaml listener and cluster names, swapping only the endpoints', () => {
    const observe = load('envoy.yaml')
    const compose = load('envoy.compose.yaml')
    expect(compose.static_resources.listeners).toEqual(observe.static_resources.listeners)
    const names = (doc: Doc) => doc.static_resources.clusters.map((cluster: Doc) => cluster.name)
    expect(names(compose)).toEqual(names(observe))
    const sessiontap = (doc: Doc) => doc.static_resources.clusters.find((c: Doc) => c.name === 'sessiontap')
    const { load_assignment: _a, type: _t, ...composeRest } = sessiontap(compose)
    const { load_assignment: _b, type: _u, ...observeRest } = sessiontap(observe)
    expect(composeRest).toEqual(observeRest)
  })

  it('the sessiontap cluster is HTTP/2, health-checked, breakers sit above the 1024 default, and a connection carries fewer streams than Node 20 lets Envoy reset', () => {
    for (const name of CONFIGS) {
      const cluster = load(name).static_resources.clusters.find((c: Doc) => c.name === 'sessiontap')
      const options =
        cluster.typed_extension_protocol_options['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']
      expect(options.explicit_http_config.http2_protocol_options.connection_keepalive).toBeDefined()
      expect(cluster.health_checks[0].grpc_health_check).toEqual({})
      expect(cluster.circuit_breakers.thresholds[0].max_requests).toBeGreaterThan(1024)
      // Node's reset guard allows a burst of about 1,000 (src/extproc/reset-guard.ts).
      expect(options.common_http_protocol_options.max_requests_per_connection).toBeLessThanOrEqual(500)
    }
  })

  it('never forwards a session header sessiontap reads to the provider, whatever the mode', () => {
    const removed: string[] = hcm(load('envoy.yaml')).route_config.virtual_hosts[0].request_headers_to_remove
    const read = [
      ...Object.values(TAPES_HEADERS),
      SERVE_OPTIONS.sessionEndHeader.defaultText,
      DEFAULT_ENVELOPE_OPTIONS.clientOrgHeader,
    ]
    expect(removed).toEqual(expect.arrayContaining(read))
    expect(removed.every((name) => name.startsWith('x-tapes-'))).toBe(true)
  })

  it.each(CONFIGS)(
    '%s strips client-sent copies of the trusted identity headers sessiontap reads',
    (name) => {
      const mutations: Doc[] = hcm(load(name)).early_header_mutation_extensions[0].typed_config.mutations
      const removed = mutations.map((m: Doc) => m.remove)
      // The names the sidecar trusts by default: renaming one (SESSIONTAP_ORG_HEADER) means renaming it here.
      expect(removed).toEqual(
        expect.arrayContaining([DEFAULT_ENVELOPE_OPTIONS.orgHeader, DEFAULT_ENVELOPE_OPTIONS.subjectHeader]),
      )
    },
  )

  it('every LLM route disables the 15 s whole-response timeout', () => {
    const routes = hcm(load('envoy.yaml')).route_config.virtual_hosts[0].routes.filter((r: Doc) => r.route)
    expect(routes.length).toBeGreaterThan(0)
    for (const route of routes) expect(route.route.timeout).toBe('0s')
  })
})

describe('the checker catches mistakes', () => {
  const cases: [string, (doc: Doc) => void, RegExp, RegExp][] = [
    [
      'a misspelled field',
      (doc) => {
        const filter = extProc(doc)
        filter.stat_prefx = filter.stat_prefix
        delete filter.stat_prefix
      },
      /http_filters\[0\]\.typed_config\.stat_prefx$/,
      /unknown field "stat_prefx"/,
    ],
    [
      'a misspelled enum value',
      (doc) => {
        extProc(doc).processing_mode.response_body_mode = 'STREAMD'
      },
      /processing_mode\.response_body_mode$/,
      /"STREAMD" is not a value of enum/,
    ],
    [
      'a misspelled @type',
      (doc) => {
        hcm(doc).http_filters[0].typed_config['@type'] =
          'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcesser'
      },
      /http_filters\[0\]\.typed_config\.@type$/,
      /unknown type .*ExternalProcesser/,
    ],
    [
      'a duration Envoy cannot parse',
      (doc) => {
        extProc(doc).deferred_close_timeout = '500ms'
      },
      /deferred_close_timeout$/,
      /expected a duration/,
    ],
    [
      'a wrong scalar kind',
      (doc) => {
        doc.static_resources.listeners[0].per_connection_buffer_limit_bytes = 'lots'
      },
      /listeners\[0\]\.per_connection_buffer_limit_bytes$/,
      /expected uint32/,
    ],
    [
      'two members of one oneof',
      (doc) => {
        hcm(doc).route_config.virtual_hosts[0].routes[1].route.cluster_header = 'x-cluster'
      },
      /routes\[1\]\.route\.cluster_header$/,
      /oneof cluster_specifier/,
    ],
    [
      'a deprecated field',
      (doc) => {
        doc.static_resources.clusters[0].http2_protocol_options = {}
      },
      /clusters\[0\]\.http2_protocol_options$/,
      /deprecated/,
    ],
  ]

  it.each(cases)('reports %s', (_label, mutate, where, what) => {
    const doc = load('envoy.yaml')
    mutate(doc)
    const issues = checkEnvoyConfig(schema, doc)
    expect(issues).toHaveLength(1)
    const [issue] = issues as [SchemaIssue]
    expect(issue.path).toMatch(where)
    expect(issue.message).toMatch(what)
  })

  it('validates the value of an allow-listed newer field too', () => {
    const doc = load('envoy.sync.yaml')
    extProc(doc).status_on_error = { code: 'BadGatewy' }
    const issues = checkEnvoyConfig(schema, doc)
    expect(issues.map((issue) => issue.message)).toEqual([
      expect.stringMatching(/"BadGatewy" is not a value of enum envoy.type.v3.StatusCode/),
    ])
  })
})

describe('the newer-field allow-list', () => {
  it('names only fields the vendored protos lack (the schema refuses stale entries)', () => {
    expect(() => new EnvoySchema([...NEWER_FIELDS, { ...NEWER_FIELDS[0]!, field: 'stat_prefix' }])).toThrow(
      /vendored now/,
    )
  })

  it.skipIf(!existsSync(EXTPROC_REFERENCE))('matches the field table of extproc.md §4.1', () => {
    const reference = readFileSync(EXTPROC_REFERENCE, 'utf8')
    for (const added of NEWER_FIELDS) {
      const row = reference.split('\n').find((line) => line.includes(`| \`${added.field}\` |`))
      expect(row, added.field).toBeDefined()
      expect(row).toMatch(new RegExp(`^\\| ${added.id} \\|`))
      expect(row).toContain(added.since)
    }
  })
})
