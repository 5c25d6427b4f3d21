/**
 * The few Envoy API fields our configs use that the proto copy vendored in @grpc/grpc-js-xds (about
 * Envoy 1.31) predates. Each entry is added to the loaded schema, so its value is still validated.
 */

export interface NewerField {
  /** Fully qualified message the field belongs to. */
  readonly message: string
  readonly field: string
  /** Field number, as in envoyproxy/data-plane-api's ext_proc.proto. */
  readonly id: number
  /** Fully qualified type of the field (a message, an enum or a scalar). */
  readonly type: string
  /** The Envoy release that added it; the compose stack pins a newer one. */
  readonly since: string
}

export const NEWER_FIELDS: readonly NewerField[] = [
  // The HTTP status Envoy answers with when the processor fails (1.36+).
  {
    message: 'envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
    field: 'status_on_error',
    id: 24,
    type: 'envoy.type.v3.HttpStatus',
    since: '1.36',
  },
]
