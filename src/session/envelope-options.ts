/**
 * Operator options of the session envelope resolver: which headers or Envoy metadata carry trusted
 * identity, and whether clients may name their org. Validated with zod; defaults exported.
 */
import { z } from 'zod'

/** An HTTP header name (RFC 9110 token), lowercased as header maps hold it. */
export const headerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name')
  .transform((name) => name.toLowerCase())

/** A string inside Envoy's metadata_context: `metadata[namespace][path[0]][path[1]]…`. */
const metadataPath = z.strictObject({
  namespace: z.string().min(1),
  path: z.array(z.string().min(1)).min(1),
})
export type MetadataPath = z.infer<typeof metadataPath>

export const envelopeOptionsSchema = z.strictObject({
  /** Set by the gateway from a verified credential; clients must not be able to send it through. */
  orgHeader: headerNameSchema.default('x-paper-auth-org-id'),
  subjectHeader: headerNameSchema.default('x-paper-auth-subject'),
  /** Verified claims in Envoy metadata (e.g. jwt_authn's payload_in_metadata); win over the headers. */
  orgMetadata: metadataPath.optional(),
  subjectMetadata: metadataPath.optional(),
  /** False: the org and subject come from the metadata only; the two headers are ignored (and reported). */
  identityHeaders: z.boolean().default(true),
  /** Lets the client's own org header choose the org when no trusted org is present. Off: spoofable. */
  allowClientOrg: z.boolean().default(false),
  clientOrgHeader: headerNameSchema.default('x-tapes-org-id'),
  /** A value of `true` asks to end the session after this turn. */
  sessionEndHeader: headerNameSchema.default('x-tapes-session-end'),
})

export type EnvelopeOptions = z.infer<typeof envelopeOptionsSchema>

export const DEFAULT_ENVELOPE_OPTIONS: EnvelopeOptions = envelopeOptionsSchema.parse({})
