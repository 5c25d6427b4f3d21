/**
 * Loads the ext_proc and health protos with the options Envoy's wire format needs (keepCase, bytes as
 * Buffer, enums as strings, oneof discriminators). The root is resolved from this file so it works
 * from src/ (tests) and dist/src/ (built).
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { LIMITS } from '../limits.js'

function findProtoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'proto')
    if (existsSync(path.join(candidate, 'envoy'))) return candidate
    dir = path.dirname(dir)
  }
  throw new Error('proto/ folder not found above ' + fileURLToPath(import.meta.url))
}

export const PROTO_ROOT = findProtoRoot()

/** Envoy's wire format as sessiontap reads it; the emulator's codecs use the same options. */
export const LOADER_OPTIONS: protoLoader.Options = {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
}

export interface LoadedProtos {
  extProc: grpc.ServiceClientConstructor
  health: grpc.ServiceClientConstructor
}

let cached: LoadedProtos | undefined

type Namespace = Record<string, unknown>

function lookup(root: grpc.GrpcObject, dotted: string): grpc.ServiceClientConstructor {
  let node: unknown = root
  for (const part of dotted.split('.')) node = (node as Namespace)[part]
  if (typeof node !== 'function') throw new Error(`service ${dotted} not found in protos`)
  return node as grpc.ServiceClientConstructor
}

export function loadProtos(): LoadedProtos {
  if (cached) return cached
  const definition = protoLoader.loadSync(
    ['envoy/service/ext_proc/v3/external_processor.proto', 'grpc/health/v1/health.proto'],
    LOADER_OPTIONS,
  )
  const root = grpc.loadPackageDefinition(definition)
  cached = {
    extProc: lookup(root, 'envoy.service.ext_proc.v3.ExternalProcessor'),
    health: lookup(root, 'grpc.health.v1.Health'),
  }
  return cached
}

/** gRPC receive limit: a BUFFERED body arrives as one message and can be as large as Envoy's buffer limit. */
export const MAX_GRPC_MESSAGE_BYTES = LIMITS.grpcMessageBytes
