import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { parseCloudFormation } from './cfn-yaml.js'

/** The member-role template, deployed by the StackSet, in the templates folder. */
export const MEMBER_TEMPLATE_FILE = 'member-role.yaml'

/** Bad deploy configuration: found before any AWS call. */
export class DeployConfigError extends Error {
  override name = 'DeployConfigError'
}

export interface ParameterSpec {
  readonly name: string
  readonly default?: string
  readonly allowedPattern?: string
  readonly allowedValues?: readonly string[]
}

export interface MemberTemplate {
  /** The body exactly as sent to CloudFormation. */
  readonly body: string
  readonly parsed: Record<string, unknown>
  readonly parameters: ReadonlyMap<string, ParameterSpec>
}

/** Reads and parses the member-role template; `body` replaces the file when given. */
export async function loadMemberTemplate(
  templateDir: string,
  body?: string
): Promise<MemberTemplate> {
  const path = join(templateDir, MEMBER_TEMPLATE_FILE)
  let text = body
  if (text === undefined) {
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      throw new DeployConfigError(
        `Cannot read the member-role template ${path}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error }
      )
    }
  }
  let parsed
  try {
    parsed = parseCloudFormation(text)
  } catch (error) {
    throw new DeployConfigError(
      `The member-role template ${path} cannot be parsed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error }
    )
  }
  return { body: text, parsed, parameters: parameterSpecs(parsed) }
}

/** The Parameters section: defaults, AllowedPattern and AllowedValues by name. */
export function parameterSpecs(template: Record<string, unknown>): Map<string, ParameterSpec> {
  const specs = new Map<string, ParameterSpec>()
  const section = template['Parameters']
  if (!isRecord(section)) return specs
  for (const [name, raw] of Object.entries(section)) {
    if (!isRecord(raw)) continue
    const fallback = raw['Default']
    const pattern = raw['AllowedPattern']
    const values = raw['AllowedValues']
    specs.set(name, {
      name,
      ...(fallback === undefined ? {} : { default: scalarText(fallback) }),
      ...(typeof pattern === 'string' ? { allowedPattern: pattern } : {}),
      ...(Array.isArray(values) ? { allowedValues: (values as unknown[]).map(scalarText) } : {})
    })
  }
  return specs
}

/**
 * Problems with the parameters for a template, as CloudFormation would find them at deploy time:
 * unknown names, missing required values, values outside AllowedValues or AllowedPattern.
 */
export function parameterProblems(
  specs: ReadonlyMap<string, ParameterSpec>,
  values: Readonly<Record<string, string>>,
  /** Parameters the caller cannot tell; the deployed value stands, so they are not checked. */
  unknown: readonly string[] = []
): string[] {
  const problems: string[] = []
  for (const name of Object.keys(values)) {
    if (!specs.has(name)) problems.push(`parameter ${name} is not declared by the template`)
  }
  for (const spec of specs.values()) {
    if (unknown.includes(spec.name)) continue
    const value = values[spec.name] ?? spec.default
    if (value === undefined) {
      problems.push(`parameter ${spec.name} is required (the template gives it no default)`)
      continue
    }
    if (spec.allowedValues && !spec.allowedValues.includes(value)) {
      problems.push(
        `parameter ${spec.name} is "${value}": must be one of ${spec.allowedValues.map(v => `"${v}"`).join(', ')}`
      )
    }
    // CloudFormation matches AllowedPattern against the whole value.
    if (
      spec.allowedPattern !== undefined &&
      !new RegExp(`^(?:${spec.allowedPattern})$`).test(value)
    ) {
      problems.push(`parameter ${spec.name} is "${value}": does not match ${spec.allowedPattern}`)
    }
  }
  return problems
}

/**
 * What differs between a deployed template body and the wanted one, per top-level entry
 * (`Resources.MemberRole changed`). Formatting and comments do not count: both are parsed and
 * compared as data. Empty when they are the same.
 */
export function templateDifferences(
  deployedBody: string | undefined,
  wanted: MemberTemplate
): string[] {
  if (deployedBody === undefined) return ['template: the deployed template body is not available']
  if (deployedBody === wanted.body) return []
  let deployed: Record<string, unknown>
  try {
    deployed = parseCloudFormation(deployedBody)
  } catch {
    return ['template: the deployed template cannot be parsed']
  }
  const differences: string[] = []
  for (const key of unionKeys(deployed, wanted.parsed)) {
    const before = deployed[key]
    const after = wanted.parsed[key]
    if (isDeepStrictEqual(before, after)) continue
    if (isRecord(before) && isRecord(after)) {
      for (const entry of unionKeys(before, after)) {
        const change = changeOf(before[entry], after[entry])
        if (change) differences.push(`template: ${key}.${entry} ${change}`)
      }
    } else {
      differences.push(`template: ${key} ${changeOf(before, after) ?? 'changed'}`)
    }
  }
  return differences
}

/** Parameter values are strings to CloudFormation; YAML may have read `8` or `true`. */
function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value)
}

function changeOf(before: unknown, after: unknown): string | undefined {
  if (isDeepStrictEqual(before, after)) return undefined
  if (before === undefined) return 'added'
  if (after === undefined) return 'removed'
  return 'changed'
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
