import type { ServiceError } from './errors.js'
import type { MissingParameterError } from './query.js'
import type { RequestParams, ResponseValue } from './values.js'

type JsonObject = Record<string, unknown>

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** AWS JSON 1.1 request parameters: the parsed body, read through the shared accessors. */
export class JsonParams implements RequestParams {
  constructor(
    private readonly body: JsonObject,
    private readonly missing: MissingParameterError,
    private readonly path = ''
  ) {}

  static parse(body: string, missing: MissingParameterError): JsonParams {
    const parsed: unknown = body.trim() === '' ? {} : JSON.parse(body)
    return new JsonParams(isObject(parsed) ? parsed : {}, missing)
  }

  string(name: string): string | undefined {
    const value = this.body[name]
    if (value === undefined || value === null) return undefined
    return typeof value === 'string' ? value : JSON.stringify(value)
  }

  requiredString(name: string): string {
    const value = this.string(name)
    if (value === undefined || value === '') throw this.missing(this.path + name)
    return value
  }

  integer(name: string): number | undefined {
    const value = this.body[name]
    return typeof value === 'number' && Number.isInteger(value) ? value : undefined
  }

  boolean(name: string): boolean | undefined {
    const value = this.body[name]
    return typeof value === 'boolean' ? value : undefined
  }

  stringList(name: string): string[] {
    const value = this.body[name]
    return Array.isArray(value)
      ? value.filter((item): item is string => typeof item === 'string')
      : []
  }

  structList(name: string): RequestParams[] {
    const value = this.body[name]
    if (!Array.isArray(value)) return []
    return value.filter(isObject).map(item => new JsonParams(item, this.missing, `${name}.`))
  }

  struct(name: string): RequestParams | undefined {
    const value = this.body[name]
    return isObject(value) ? new JsonParams(value, this.missing, `${name}.`) : undefined
  }

  stringMap(name: string): Map<string, string> {
    const value = this.body[name]
    const map = new Map<string, string>()
    if (isObject(value)) {
      for (const [key, item] of Object.entries(value))
        if (typeof item === 'string') map.set(key, item)
    }
    return map
  }
}

/** JSON 1.1 carries timestamps as epoch seconds and leaves absent members out. */
function toJsonValue(value: ResponseValue): unknown {
  if (value instanceof Date) return value.getTime() / 1000
  if (Array.isArray(value)) return (value as readonly ResponseValue[]).map(toJsonValue)
  if (typeof value === 'object' && value !== null) {
    const out: JsonObject = {}
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined && member !== null) out[key] = toJsonValue(member)
    }
    return out
  }
  return value
}

export function encodeJsonResponse(result: ResponseValue): string {
  return JSON.stringify(toJsonValue(result ?? {}))
}

export function encodeJsonError(error: ServiceError): string {
  return JSON.stringify({ __type: error.code, message: error.message })
}
