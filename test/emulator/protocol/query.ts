import type { ServiceError } from './errors.js'
import type { RequestParams, ResponseValue } from './values.js'

/** Builds the error a service raises for a missing required parameter. */
export type MissingParameterError = (name: string) => ServiceError

/**
 * AWS Query request parameters (form-urlencoded). Lists arrive flattened as `Name.member.N`,
 * structures as `Name.Field`, maps as `Name.entry.N.key` / `.value`; a nested view shares the
 * flat map and only adds a prefix.
 */
export class QueryParams implements RequestParams {
  constructor(
    private readonly values: ReadonlyMap<string, string>,
    private readonly missing: MissingParameterError,
    private readonly prefix = ''
  ) {}

  static parse(body: string, missing: MissingParameterError): QueryParams {
    return new QueryParams(new Map(new URLSearchParams(body)), missing)
  }

  string(name: string): string | undefined {
    return this.values.get(this.prefix + name)
  }

  requiredString(name: string): string {
    const value = this.string(name)
    if (value === undefined || value === '') throw this.missing(this.prefix + name)
    return value
  }

  integer(name: string): number | undefined {
    const value = this.string(name)
    if (value === undefined || value === '') return undefined
    const parsed = Number(value)
    return Number.isInteger(parsed) ? parsed : undefined
  }

  boolean(name: string): boolean | undefined {
    const value = this.string(name)
    return value === undefined || value === '' ? undefined : value === 'true'
  }

  stringList(name: string): string[] {
    const items: string[] = []
    for (let i = 1; ; i++) {
      const item = this.values.get(`${this.prefix}${name}.member.${i}`)
      if (item === undefined) return items
      items.push(item)
    }
  }

  structList(name: string): RequestParams[] {
    const items: RequestParams[] = []
    for (let i = 1; ; i++) {
      const itemPrefix = `${this.prefix}${name}.member.${i}.`
      if (!this.hasKeyStartingWith(itemPrefix)) return items
      items.push(new QueryParams(this.values, this.missing, itemPrefix))
    }
  }

  struct(name: string): RequestParams | undefined {
    const structPrefix = `${this.prefix}${name}.`
    return this.hasKeyStartingWith(structPrefix)
      ? new QueryParams(this.values, this.missing, structPrefix)
      : undefined
  }

  stringMap(name: string): Map<string, string> {
    const map = new Map<string, string>()
    for (let i = 1; ; i++) {
      const key = this.values.get(`${this.prefix}${name}.entry.${i}.key`)
      if (key === undefined) return map
      map.set(key, this.values.get(`${this.prefix}${name}.entry.${i}.value`) ?? '')
    }
  }

  private hasKeyStartingWith(prefix: string): boolean {
    for (const key of this.values.keys()) if (key.startsWith(prefix)) return true
    return false
  }
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;'
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, c => XML_ESCAPES[c] ?? c)
}

/** IAM, STS and CloudFormation print timestamps as ISO 8601 without milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function scalarText(value: string | number | boolean | Date): string {
  if (value instanceof Date) return isoSeconds(value)
  return escapeXml(String(value))
}

/** Appends the children of `value` (an object's members, or a list's `<member>` elements). */
function writeChildren(value: ResponseValue, out: string[]): void {
  if (value === null || value === undefined) return
  if (Array.isArray(value)) {
    for (const item of value as readonly ResponseValue[]) writeElement('member', item, out)
    return
  }
  if (typeof value === 'object' && !(value instanceof Date)) {
    for (const [name, member] of Object.entries(value)) writeElement(name, member, out)
    return
  }
  out.push(scalarText(value))
}

function writeElement(name: string, value: ResponseValue, out: string[]): void {
  if (value === null || value === undefined) return
  out.push(`<${name}>`)
  writeChildren(value, out)
  out.push(`</${name}>`)
}

/** `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` as AWS Query sends it. */
export function encodeQueryResponse(
  action: string,
  xmlNamespace: string,
  result: ResponseValue,
  requestId: string
): string {
  const out: string[] = [`<${action}Response xmlns="${xmlNamespace}">`]
  if (result !== undefined && result !== null) writeElement(`${action}Result`, result, out)
  out.push(`<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`)
  out.push(`</${action}Response>`)
  return out.join('')
}

export function encodeQueryError(
  error: ServiceError,
  xmlNamespace: string,
  requestId: string
): string {
  return (
    `<ErrorResponse xmlns="${xmlNamespace}"><Error><Type>${error.faultType}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  )
}
