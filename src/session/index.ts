/** The session layer's public face: hash a turn's messages into a chain, resolve its session envelope. */

export type { ChainResult } from './chain.js'
export { buildChain, hashNode, hashProjected } from './chain.js'
export type { EnvelopeInput } from './envelope.js'
export { resolveEnvelope, SYNTHETIC_ID_LENGTH } from './envelope.js'
export type { EnvelopeOptions, MetadataPath } from './envelope-options.js'
export { DEFAULT_ENVELOPE_OPTIONS, envelopeOptionsSchema } from './envelope-options.js'
export type { EnvoyMetadata } from './identity.js'
export type { ProjectedBlock, ProjectedMessage } from './projection.js'
export * from './turn.js'
