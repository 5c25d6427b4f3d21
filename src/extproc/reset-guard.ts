/**
 * Node's HTTP/2 rapid-reset guard (CVE-2023-44487) closes a whole connection with GOAWAY once its peer
 * resets streams faster than a budget: a burst of about 1,000, then 33 per second. Envoy resets every
 * ext_proc stream it finishes, so behind a busy Envoy the guard cuts the ext_proc connection, and every
 * exchange on it, about every thousand exchanges (grpc/grpc-node#2625). Node 22.10 and later take
 * `streamResetBurst`/`streamResetRate` as HTTP/2 server options; grpc-js 1.14 does not pass them, so
 * they are put into the options it gives every HTTP/2 server it creates. The peer is Envoy, on a
 * port that binds loopback by default, so a high budget is no opening for a flood from the internet.
 * On older Node the guard stays: envoy/*.yaml caps the ext_proc cluster at 500 streams per connection.
 */
import type * as grpc from '@grpc/grpc-js'

const LIFTED = { streamResetBurst: 1_000_000, streamResetRate: 100_000 }

/** Whether this Node takes the options (22.10+, 23+). */
export function resetGuardAdjustable(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 10)
}

export type ResetGuard = 'lifted' | 'node-default'

/** Call before the server creates its HTTP/2 server (bindAsync or createConnectionInjector). */
export function liftResetGuard(server: grpc.Server): ResetGuard {
  if (!resetGuardAdjustable()) return 'node-default'
  // grpc-js keeps these in a private field; if a later version renames it, the guard simply stays.
  const options = (server as unknown as { commonServerOptions?: Record<string, unknown> }).commonServerOptions
  if (!options) return 'node-default'
  Object.assign(options, LIFTED)
  return 'lifted'
}
