/**
 * Checks an Envoy YAML config against Envoy's own API protos without an Envoy binary: every field name,
 * enum value, scalar kind, oneof and typed_config @type is resolved, the way Envoy's loader would.
 */
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import protobuf from 'protobufjs'
import type { NewerField } from './newer-fields.js'

const require = createRequire(import.meta.url)
const XDS_DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps')
const ENVOY_API = path.join(XDS_DEPS, 'envoy-api')
const INCLUDE_DIRS = [
  ENVOY_API,
  path.join(XDS_DEPS, 'xds'),
  path.join(XDS_DEPS, 'googleapis'),
  path.join(XDS_DEPS, 'protoc-gen-validate'),
  // google/protobuf/descriptor.proto, which the annotation protos import.
  path.dirname(require.resolve('protobufjs/package.json')),
]

export const BOOTSTRAP_TYPE = 'envoy.config.bootstrap.v3.Bootstrap'
const TYPE_URL_PREFIX = 'type.googleapis.com/'
const DURATION = /^-?\d+(\.\d{1,9})?s$/
const INTEGER = /^-?\d+$/
const WRAPPERS: Record<string, string> = {
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
}

export interface SchemaIssue {
  /** Where in the document, e.g. `static_resources.listeners[0].name`. */
  readonly path: string
  readonly message: string
}

/** Loads proto packages on demand (the vendored set cannot be loaded whole: some files lack imports). */
export class EnvoySchema {
  private readonly root = new protobuf.Root()
  private readonly loadedPackages = new Set<string>()

  constructor(newerFields: readonly NewerField[]) {
    this.root.resolvePath = (_origin, target) => {
      for (const dir of INCLUDE_DIRS) {
        const candidate = path.join(dir, target)
        if (existsSync(candidate)) return candidate
      }
      return target
    }
    this.loadPackageOf(BOOTSTRAP_TYPE)
    for (const added of newerFields) this.addField(added)
  }

  /** The vendored message, or undefined; loads the type's package directory first. */
  lookupType(fullName: string): protobuf.Type | undefined {
    this.loadPackageOf(fullName)
    const found = this.root.lookup(fullName)
    return found instanceof protobuf.Type ? found : undefined
  }

  private addField(added: NewerField): void {
    const owner = this.lookupType(added.message)
    if (!owner) throw new Error(`allow-list names an unknown message ${added.message}`)
    if (owner.fields[added.field]) throw new Error(`${added.message}.${added.field} is vendored now: drop it`)
    if (!isScalar(added.type)) this.loadPackageOf(added.type)
    const field = new protobuf.Field(
      added.field,
      added.id,
      isScalar(added.type) ? added.type : `.${added.type}`,
    )
    owner.add(field)
    field.resolve()
  }

  private loadPackageOf(typeName: string): void {
    const packageName = typeName.split('.').slice(0, -1).join('.')
    if (this.loadedPackages.has(packageName)) return
    this.loadedPackages.add(packageName)
    const dir = path.join(ENVOY_API, ...packageName.split('.'))
    if (!existsSync(dir)) return
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.proto'))
      .map((name) => path.join(...packageName.split('.'), name))
    this.root.loadSync(files, { keepCase: true })
    this.root.resolveAll()
  }
}

/** Validates a parsed YAML/JSON document as `typeName`; returns every problem found (empty = valid). */
export function checkEnvoyConfig(
  schema: EnvoySchema,
  document: unknown,
  typeName: string = BOOTSTRAP_TYPE,
): SchemaIssue[] {
  const issues: SchemaIssue[] = []
  const type = schema.lookupType(typeName)
  if (!type) return [{ path: '', message: `unknown message ${typeName}` }]
  checkMessage(schema, type, document, '', issues)
  return issues
}

function checkMessage(
  schema: EnvoySchema,
  type: protobuf.Type,
  value: unknown,
  at: string,
  issues: SchemaIssue[],
): void {
  const name = type.fullName.slice(1)
  const report = (message: string): void => {
    issues.push({ path: at, message })
  }

  const wrapped = WRAPPERS[name]
  if (wrapped) {
    checkScalar(wrapped, value, at, issues)
    return
  }
  switch (name) {
    case 'google.protobuf.Duration':
      if (typeof value !== 'string' || !DURATION.test(value))
        report(`expected a duration like "5s", got ${show(value)}`)
      return
    case 'google.protobuf.Timestamp':
      if (typeof value !== 'string') report(`expected an RFC 3339 timestamp, got ${show(value)}`)
      return
    case 'google.protobuf.Struct':
      if (!isObject(value)) report(`expected an object, got ${show(value)}`)
      return
    case 'google.protobuf.Value':
      return
    case 'google.protobuf.ListValue':
      if (!Array.isArray(value)) report(`expected a list, got ${show(value)}`)
      return
    case 'google.protobuf.Any':
      checkAny(schema, value, at, issues)
      return
  }

  if (!isObject(value)) {
    report(`expected a ${name} object, got ${show(value)}`)
    return
  }
  const setOneofs = new Map<string, string>()
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = findField(type, key)
    const fieldPath = at === '' ? key : `${at}.${key}`
    if (!field) {
      issues.push({ path: fieldPath, message: `unknown field "${key}" in ${name}` })
      continue
    }
    if (field.options?.deprecated === true) {
      issues.push({ path: fieldPath, message: `${name}.${field.name} is deprecated` })
    }
    const oneof = field.partOf
    if (oneof && !oneof.name.startsWith('_')) {
      const other = setOneofs.get(oneof.name)
      if (other)
        issues.push({ path: fieldPath, message: `oneof ${oneof.name}: both ${other} and ${field.name} set` })
      setOneofs.set(oneof.name, field.name)
    }
    checkField(schema, field, fieldValue, fieldPath, issues)
  }
}

function checkField(
  schema: EnvoySchema,
  field: protobuf.Field,
  value: unknown,
  at: string,
  issues: SchemaIssue[],
): void {
  if (field instanceof protobuf.MapField) {
    if (isObject(value)) {
      for (const [key, item] of Object.entries(value))
        checkSingle(schema, field, item, `${at}.${key}`, issues)
    } else issues.push({ path: at, message: `expected a map, got ${show(value)}` })
    return
  }
  if (field.repeated) {
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) checkSingle(schema, field, item, `${at}[${index}]`, issues)
    } else issues.push({ path: at, message: `expected a list, got ${show(value)}` })
    return
  }
  checkSingle(schema, field, value, at, issues)
}

function checkSingle(
  schema: EnvoySchema,
  field: protobuf.Field,
  value: unknown,
  at: string,
  issues: SchemaIssue[],
): void {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Enum) {
    const known =
      typeof value === 'string'
        ? value in resolved.values
        : Object.values(resolved.values).includes(value as number)
    if (!known)
      issues.push({
        path: at,
        message: `${show(value)} is not a value of enum ${resolved.fullName.slice(1)}`,
      })
    return
  }
  if (resolved instanceof protobuf.Type) checkMessage(schema, resolved, value, at, issues)
  else checkScalar(field.type, value, at, issues)
}

function checkAny(schema: EnvoySchema, value: unknown, at: string, issues: SchemaIssue[]): void {
  if (!isObject(value)) {
    issues.push({ path: at, message: `expected a typed_config object, got ${show(value)}` })
    return
  }
  const { '@type': typeUrl, ...rest } = value
  if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
    issues.push({ path: at, message: `missing or malformed "@type": ${show(typeUrl)}` })
    return
  }
  const typeName = typeUrl.slice(TYPE_URL_PREFIX.length)
  const type = schema.lookupType(typeName)
  if (type) checkMessage(schema, type, rest, at, issues)
  else issues.push({ path: `${at}.@type`, message: `unknown type ${typeName}` })
}

function checkScalar(kind: string, value: unknown, at: string, issues: SchemaIssue[]): void {
  const ok = (() => {
    switch (kind) {
      case 'bool':
        return typeof value === 'boolean'
      case 'string':
      case 'bytes':
        return typeof value === 'string'
      case 'double':
      case 'float':
        return typeof value === 'number'
      default: {
        // Integers; 64-bit ones may be written as strings in proto3 JSON.
        const unsigned = kind.startsWith('uint') || kind.startsWith('fixed')
        const integer = Number.isInteger(value) || (typeof value === 'string' && INTEGER.test(value))
        return integer && !(unsigned && Number(value) < 0)
      }
    }
  })()
  if (!ok) issues.push({ path: at, message: `expected ${kind}, got ${show(value)}` })
}

/** Envoy accepts the proto name and the lowerCamelCase JSON name. */
function findField(type: protobuf.Type, key: string): protobuf.Field | undefined {
  return type.fields[key] ?? type.fieldsArray.find((field) => camelCase(field.name) === key)
}

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase())
}

function isScalar(type: string): boolean {
  return /^(double|float|u?int(32|64)|sint(32|64)|s?fixed(32|64)|bool|string|bytes)$/.test(type)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value)
}
