/**
 * Static checks of the compose wiring that need no Docker: service names, ports and paths agree
 * between docker-compose.yml, the Dockerfile and envoy/envoy.compose.yaml.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { NEWER_FIELDS } from '../envoy-config/newer-fields.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML documents are navigated freely here
const compose: any = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'))
// biome-ignore lint/suspicious/noExplicitAny: as above
const envoyConfig: any = parse(readFileSync(path.join(ROOT, 'envoy/envoy.compose.yaml'), 'utf8'))
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')

function clusterEndpoint(name: string): { address: string; port_value: number } {
  const cluster = envoyConfig.static_resources.clusters.find((c: { name: string }) => c.name === name)
  return cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address
}

function flagValue(command: string[], flag: string): string | undefined {
  const at = command.indexOf(flag)
  return at === -1 ? undefined : command[at + 1]
}

describe('docker-compose.yml wiring', () => {
  it('pins an Envoy image new enough for every allow-listed newer field', () => {
    const match = /^envoyproxy\/envoy:v1\.(\d+)\.\d+$/.exec(compose.services.envoy.image)
    expect(match).not.toBeNull()
    const needed = Math.max(...NEWER_FIELDS.map((field) => Number(field.since.split('.')[1])))
    expect(Number(match![1])).toBeGreaterThanOrEqual(needed)
  })

  it('mounts envoy.compose.yaml where the Envoy command reads it', () => {
    const envoy = compose.services.envoy
    const configPath = flagValue(envoy.command, '-c')
    expect(envoy.volumes).toContain(`./envoy/envoy.compose.yaml:${configPath}:ro`)
  })

  it("points Envoy's clusters at the services and ports that serve them", () => {
    const grpcPort = /SESSIONTAP_GRPC_ADDRESS=0\.0\.0\.0:(\d+)/.exec(dockerfile)?.[1]
    expect(clusterEndpoint('sessiontap')).toEqual({ address: 'sessiontap', port_value: Number(grpcPort) })
    const mockPort = flagValue(compose.services['mock-upstream'].command, '--port')
    for (const provider of ['openai', 'anthropic', 'gemini']) {
      expect(clusterEndpoint(provider)).toEqual({ address: 'mock-upstream', port_value: Number(mockPort) })
    }
  })

  it('runs the mock upstream from a built source file, over a cases folder that exists', () => {
    const command: string[] = compose.services['mock-upstream'].command
    const script = command[1]!
    expect(script).toMatch(/^dist\/src\/.*\.js$/)
    expect(existsSync(path.join(ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true)
    const [hostDir, containerDir] = compose.services['mock-upstream'].volumes[0].split(':')
    expect(flagValue(command, '--cases')).toBe(containerDir)
    expect(existsSync(path.join(ROOT, hostDir))).toBe(true)
  })

  it("gives sessiontap the postgres service's database and credentials", () => {
    const db = compose.services.postgres.environment
    const url = new URL(compose.services.sessiontap.environment.DATABASE_URL)
    expect(url.hostname).toBe('postgres')
    expect(decodeURIComponent(url.username)).toBe(db.POSTGRES_USER)
    expect(decodeURIComponent(url.password)).toBe(db.POSTGRES_PASSWORD)
    expect(url.pathname).toBe(`/${db.POSTGRES_DB}`)
    expect(compose.services.sessiontap.depends_on.postgres.condition).toBe('service_healthy')
  })
})
