import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseCloudFormation } from '../../src/deploy/cfn-yaml.js'

export const CFN_DIR = join(import.meta.dirname, '..', '..', 'cfn')

export type Template = Record<string, unknown>

export interface LoadedTemplate {
  readonly file: string
  readonly body: string
  readonly template: Template
}

export function loadTemplates(): LoadedTemplate[] {
  return readdirSync(CFN_DIR)
    .filter(file => file.endsWith('.yaml'))
    .sort()
    .map(file => {
      const body = readFileSync(join(CFN_DIR, file), 'utf8')
      return { file, body, template: parseCloudFormation(body) }
    })
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export function section(template: Template, name: string): Record<string, Record<string, unknown>> {
  const value = template[name]
  if (!isRecord(value)) return {}
  const entries: Record<string, Record<string, unknown>> = {}
  for (const [key, entry] of Object.entries(value)) if (isRecord(entry)) entries[key] = entry
  return entries
}

/** Where a policy document sits, which decides the rules it must follow. */
export type PolicyKind = 'trust' | 'identity' | 'key' | 'endpoint'

export interface PolicyDocument {
  readonly file: string
  readonly resource: string
  readonly resourceType: string
  readonly kind: PolicyKind
  readonly document: unknown
}

export interface Statement {
  /** file › resource › Sid, for failure messages. */
  readonly where: string
  readonly kind: PolicyKind
  readonly resource: string
  readonly resourceType: string
  readonly body: Record<string, unknown>
}

const POLICY_KEYS: Record<string, PolicyKind> = {
  AssumeRolePolicyDocument: 'trust',
  PolicyDocument: 'identity',
  KeyPolicy: 'key'
}

/**
 * Every policy document anywhere in a template's resources, found by its property name (so a new
 * resource type cannot slip past the checks): trust policies, inline and managed policies, key
 * policies, endpoint policies.
 */
export function policyDocuments({ file, template }: LoadedTemplate): PolicyDocument[] {
  const found: PolicyDocument[] = []
  for (const [name, resource] of Object.entries(section(template, 'Resources'))) {
    const resourceType = String(resource['Type'])
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) {
        value.forEach(visit)
      } else if (isRecord(value)) {
        for (const [key, child] of Object.entries(value)) {
          const kind = POLICY_KEYS[key]
          if (kind) {
            found.push({
              file,
              resource: name,
              resourceType,
              kind: resourceType === 'AWS::EC2::VPCEndpoint' ? 'endpoint' : kind,
              document: child
            })
          } else {
            visit(child)
          }
        }
      }
    }
    visit(resource['Properties'])
  }
  return found
}

/** The alternatives a value can take: both branches of Fn::If, without AWS::NoValue. */
export function alternatives(value: unknown): unknown[] {
  if (isRecord(value) && Array.isArray(value['Fn::If'])) {
    const [, whenTrue, whenFalse] = value['Fn::If'] as unknown[]
    return [...alternatives(whenTrue), ...alternatives(whenFalse)]
  }
  if (isRecord(value) && value['Ref'] === 'AWS::NoValue') return []
  return [value]
}

/** Every statement of a policy document, conditional ones included (both branches). */
export function statements(policy: PolicyDocument): Statement[] {
  if (!isRecord(policy.document)) throw new Error(`${policy.file} ${policy.resource}: no document`)
  const raw = policy.document['Statement']
  const list = Array.isArray(raw) ? raw : [raw]
  return list.flatMap(alternatives).map(body => {
    if (!isRecord(body)) throw new Error(`${policy.file} ${policy.resource}: bad statement`)
    const sid = typeof body['Sid'] === 'string' ? body['Sid'] : '(no Sid)'
    return {
      where: `${policy.file} › ${policy.resource} › ${sid}`,
      kind: policy.kind,
      resource: policy.resource,
      resourceType: policy.resourceType,
      body
    }
  })
}

/**
 * A value as the text it stands for: Fn::Sub strings as written (`${AWS::AccountId}` kept),
 * Ref as `${Name}`, GetAtt as `${Resource.Attribute}`; every Fn::If branch.
 */
export function render(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(render)
  if (!isRecord(value)) return [String(value)]
  if (typeof value['Ref'] === 'string') return value['Ref'] === 'AWS::NoValue' ? [] : [`\${${value['Ref']}}`]
  if (value['Fn::If'] !== undefined) return alternatives(value).flatMap(render)
  const sub = value['Fn::Sub']
  if (typeof sub === 'string') return [sub]
  if (Array.isArray(sub) && typeof sub[0] === 'string') return [sub[0]]
  const getAtt = value['Fn::GetAtt']
  if (Array.isArray(getAtt)) return [`\${${getAtt.join('.')}}`]
  return [JSON.stringify(value)]
}

export function strings(value: unknown): string[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value.flatMap(render) : render(value)
}

/** Fills a Fn::Sub string with values (`${!x}` stays as the literal `${x}`, as in CloudFormation). */
export function substitute(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{(!?)([^}]+)\}/g, (whole, bang: string, name: string) => {
    if (bang === '!') return `\${${name}}`
    const value = values[name]
    if (value === undefined) throw new Error(`no value for ${whole} in ${text}`)
    return value
  })
}

/** IAM's wildcard match: `*` any run of characters, `?` exactly one. */
export function iamMatch(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${source}$`).test(value)
}
