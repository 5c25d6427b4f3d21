/** The Prometheus registry the admin server's /metrics exports; every module registers its metrics on it. */
import { collectDefaultMetrics, Registry } from 'prom-client'

export function createRegistry(options: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry()
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'sessiontap_' })
  return registry
}
