import type { ResponseObject } from '../protocol/values.js'
import { evaluate, type Decision, type EvaluationRequest, type NamedPolicy } from './evaluate.js'

/**
 * IAM's policy simulator (SimulatePrincipalPolicy), on the emulator's own evaluator: the same
 * decision a request would get, for a principal whose policies the caller names, with only the
 * context keys the caller supplies (as IAM's simulator, which fills in none of its own).
 */

/** Where a matched statement came from, in IAM's PolicySourceType words. */
export type PolicySourceType =
  'user' | 'group' | 'role' | 'aws-managed' | 'user-managed' | 'resource' | 'none'

/** A policy taking part in a simulation, and how IAM's answer names it. */
export interface SimulatedPolicy extends NamedPolicy {
  /** SourcePolicyId: an inline policy's name, a managed policy's name, `PolicyInputList.N`. */
  readonly sourceId: string
  readonly sourceType: PolicySourceType
}

export interface SimulationInput {
  /** Who calls: the source user, or CallerArn; the role or group itself otherwise. */
  readonly principal: string
  readonly actions: readonly string[]
  /** `["*"]` when the request names none. */
  readonly resources: readonly string[]
  /** Whether ResourceArns was given: results then carry ResourceSpecificResults. */
  readonly resourcesGiven: boolean
  /** The account of a resource whose ARN names none (ResourceOwner, or the caller's). */
  readonly defaultResourceAccount: string
  readonly identityPolicies: readonly SimulatedPolicy[]
  readonly permissionsBoundary: NamedPolicy | undefined
  readonly resourcePolicy: SimulatedPolicy | undefined
  readonly context: Readonly<Record<string, string | string[]>>
}

const EVAL_DECISION: Record<Decision, string> = {
  Allowed: 'allowed',
  ExplicitlyDenied: 'explicitDeny',
  ImplicitlyDenied: 'implicitDeny'
}

const ALLOW_EVERYTHING: NamedPolicy = {
  name: 'simulation: any identity allow',
  document: JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }]
  })
}

const RESOURCE_ALLOWS_ANYONE: NamedPolicy = {
  name: 'simulation: any resource allow',
  document: JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: '*', Resource: '*' }]
  })
}

interface OneResult {
  readonly decision: Decision
  readonly matched: ResponseObject[]
  readonly missing: string[]
  readonly boundaryDetail: ResponseObject | undefined
}

interface Statement {
  readonly Effect?: unknown
  readonly Action?: unknown
  readonly NotAction?: unknown
  readonly Resource?: unknown
  readonly NotResource?: unknown
  readonly Condition?: unknown
}

function statementsOf(document: string): Statement[] {
  const parsed = JSON.parse(document) as { Statement?: unknown }
  const list: unknown[] = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement]
  return list.filter((s): s is Statement => typeof s === 'object' && s !== null)
}

function alone(policy: NamedPolicy, statement: Statement, index: number): NamedPolicy {
  return {
    name: `${policy.name}#${index}`,
    document: JSON.stringify({ Version: '2012-10-17', Statement: [statement] })
  }
}

function asStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

/** IAM's action wildcards (`*`, `?`), case-insensitively. */
function actionPattern(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`, 'i')
}

function appliesToAction(statement: Statement, action: string): boolean {
  if (statement.NotAction !== undefined) {
    return !asStrings(statement.NotAction).some(p => actionPattern(p).test(action))
  }
  return asStrings(statement.Action).some(p => actionPattern(p).test(action))
}

/** Policy variables (`${aws:username}`) in a value; `${*}`, `${?}` and `${$}` are literals. */
function variablesIn(value: unknown, found: string[]): void {
  if (typeof value === 'string') {
    for (const match of value.matchAll(/\$\{([^}]+)\}/g)) {
      const name = (match[1] ?? '').split(',')[0]?.trim() ?? ''
      if (name.includes(':')) found.push(name)
    }
  } else if (Array.isArray(value)) {
    for (const item of value) variablesIn(item, found)
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) variablesIn(item, found)
  }
}

/** The context keys a statement reads: its condition keys and its policy variables. */
function contextKeysOf(statement: Statement): string[] {
  const found: string[] = []
  if (typeof statement.Condition === 'object' && statement.Condition !== null) {
    for (const block of Object.values(statement.Condition as Record<string, unknown>)) {
      if (typeof block === 'object' && block !== null) found.push(...Object.keys(block))
    }
  }
  variablesIn(statement.Resource, found)
  variablesIn(statement.NotResource, found)
  variablesIn(statement.Condition, found)
  return found
}

function accountOfArn(arn: string): string | undefined {
  const account = arn.split(':')[4]
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined
}

function statementView(policy: SimulatedPolicy): ResponseObject {
  return { SourcePolicyId: policy.sourceId, SourcePolicyType: policy.sourceType }
}

/** One action on one resource, as IAM's EvaluationResult (and ResourceSpecificResult) shows it. */
function simulateOne(input: SimulationInput, action: string, resource: string): OneResult {
  const request: EvaluationRequest = {
    principal: input.principal,
    action,
    resource,
    resourceAccount: accountOfArn(resource) ?? input.defaultResourceAccount,
    context: input.context,
    identityPolicies: input.identityPolicies,
    permissionsBoundary: input.permissionsBoundary,
    resourcePolicy: input.resourcePolicy
  }
  const decision = evaluate(request)
  const sameAccount = input.principal.includes(`::${request.resourceAccount}:`)
  // A statement matches when, on its own, it decides this request the way its effect says.
  const wanted = decision === 'ExplicitlyDenied' ? 'Deny' : 'Allow'
  const matched: ResponseObject[] = []
  for (const policy of input.identityPolicies) {
    statementsOf(policy.document).forEach((statement, index) => {
      if (statement.Effect !== wanted) return
      // Across accounts an identity allow also needs the resource side: let that side allow.
      const outcome = evaluate({
        ...request,
        identityPolicies: [alone(policy, statement, index)],
        permissionsBoundary: undefined,
        resourcePolicy: sameAccount ? undefined : RESOURCE_ALLOWS_ANYONE
      })
      if (outcome === (wanted === 'Deny' ? 'ExplicitlyDenied' : 'Allowed')) {
        matched.push(statementView(policy))
      }
    })
  }
  const resourcePolicy = input.resourcePolicy
  if (resourcePolicy) {
    statementsOf(resourcePolicy.document).forEach((statement, index) => {
      if (statement.Effect !== wanted) return
      // Within one account a resource policy allows alone; across accounts it takes both sides.
      const outcome = evaluate({
        ...request,
        identityPolicies: wanted === 'Allow' && sameAccount ? [] : [ALLOW_EVERYTHING],
        permissionsBoundary: undefined,
        resourcePolicy: alone(resourcePolicy, statement, index)
      })
      if (outcome === (wanted === 'Deny' ? 'ExplicitlyDenied' : 'Allowed')) {
        matched.push(statementView(resourcePolicy))
      }
    })
  }
  const supplied = new Set(Object.keys(input.context).map(key => key.toLowerCase()))
  const missing = new Map<string, string>()
  const policies = [
    ...input.identityPolicies,
    ...(input.permissionsBoundary ? [input.permissionsBoundary] : []),
    ...(resourcePolicy ? [resourcePolicy] : [])
  ]
  for (const policy of policies) {
    for (const statement of statementsOf(policy.document)) {
      if (!appliesToAction(statement, action)) continue
      for (const key of contextKeysOf(statement)) {
        const lower = key.toLowerCase()
        if (!supplied.has(lower) && !missing.has(lower)) missing.set(lower, key)
      }
    }
  }
  const boundary = input.permissionsBoundary
  return {
    decision,
    matched,
    missing: [...missing.values()],
    boundaryDetail: boundary
      ? {
          AllowedByPermissionsBoundary:
            evaluate({
              ...request,
              identityPolicies: [ALLOW_EVERYTHING],
              resourcePolicy: sameAccount ? undefined : RESOURCE_ALLOWS_ANYONE
            }) === 'Allowed'
        }
      : undefined
  }
}

/** EvaluationResults: one per action and resource, actions first, in the order given. */
export function simulatePolicies(input: SimulationInput): ResponseObject[] {
  return input.actions.flatMap(action =>
    input.resources.map(resource => {
      const one = simulateOne(input, action, resource)
      const decision = EVAL_DECISION[one.decision]
      const result: ResponseObject = {
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: decision,
        MatchedStatements: one.matched,
        // With named resources IAM reports missing keys per resource, not here.
        MissingContextValues: input.resourcesGiven ? [] : one.missing,
        PermissionsBoundaryDecisionDetail: one.boundaryDetail
      }
      if (!input.resourcesGiven) return result
      return {
        ...result,
        ResourceSpecificResults: [
          {
            EvalResourceName: resource,
            EvalResourceDecision: decision,
            MatchedStatements: one.matched,
            MissingContextValues: one.missing,
            PermissionsBoundaryDecisionDetail: one.boundaryDetail
          }
        ]
      }
    })
  )
}
