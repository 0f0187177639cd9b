import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ServiceError } from '../protocol/errors.js'
import type { RequestParams } from '../protocol/values.js'
import type { Caller, ServiceDefinition } from '../service.js'
import type { EmulatorState } from '../state.js'
import { denialReason, evaluate, type EvaluationRequest, type NamedPolicy } from './evaluate.js'
import { orgOf, principalOf, type Principal } from './principal.js'
import { checksFor, type AuthorizationCheck } from './requests.js'

/**
 * Authorizes every request as IAM would, before its operation runs: the caller's identity
 * policies, permissions boundary and the resource's policy, with the request's condition keys.
 * Denials answer with AWS's codes and wording.
 */

/** One permission a principal used, for the least-privilege test. */
export interface PermissionUse {
  /** Logical id of the template resource whose policy granted it (CentralRole). */
  readonly origin: string
  /** The statement that granted it. */
  readonly sid: string
  readonly action: string
}

/** A folder where every emulator process appends the uses it saw (JSON Lines), when set. */
export const PERMISSION_LOG_ENV = 'IAM_EMULATOR_PERMISSION_LOG_DIR'

/** The user agent the action's SDK clients send (`userAgentAppId`). */
const ACTION_USER_AGENT = 'app/iam-key-rotation-action'

export class PermissionRecorder {
  private readonly seen = new Set<string>()

  private readonly logFile: string | undefined

  constructor(logDir = process.env[PERMISSION_LOG_ENV]) {
    this.logFile = logDir ? join(logDir, `${process.pid}.jsonl`) : undefined
    if (logDir) mkdirSync(logDir, { recursive: true })
  }

  record(use: PermissionUse): void {
    const key = `${use.origin} ${use.sid} ${use.action}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    if (this.logFile) appendFileSync(this.logFile, `${JSON.stringify(use)}\n`)
  }
}

export interface AuthorizationRequest {
  readonly state: EmulatorState
  readonly service: ServiceDefinition
  readonly operation: string
  readonly region: string
  readonly caller: Caller
  readonly now: Date
  readonly params: RequestParams
  readonly userAgent: string | undefined
}

/** Organizations does not say who was refused what, whatever refused it. */
const ORGANIZATIONS_DENIAL = "You don't have permissions to access this resource."

function accessDenied(service: ServiceDefinition, message: string): ServiceError {
  if (service.name === 'organizations')
    return new ServiceError('AccessDeniedException', ORGANIZATIONS_DENIAL)
  return new ServiceError(
    service.protocol === 'json' ? 'AccessDeniedException' : 'AccessDenied',
    message
  )
}

function deniedMessage(
  request: EvaluationRequest,
  decision: 'ExplicitlyDenied' | 'ImplicitlyDenied'
): string {
  const { action, resource } = request
  const head = `User: ${request.principal} is not authorized to perform: ${action} on resource: ${resource}`
  // STS says no more for a refused AssumeRole, whether the trust or the caller's policy refused.
  if (action === 'sts:AssumeRole') return head
  const reason = denialReason(request, decision)
  const article = reason.policyType === 'identity-based' ? 'an' : 'a'
  return reason.kind === 'explicit'
    ? `${head} with an explicit deny in ${article} ${reason.policyType} policy`
    : `${head} because no ${reason.policyType}${reason.policyType === 'permissions boundary' ? '' : ' policy'} allows the ${action} action`
}

/** Condition keys every request carries. */
function requestContext(
  state: EmulatorState,
  principal: Principal,
  check: AuthorizationCheck,
  region: string,
  now: Date
): Record<string, string | string[]> {
  const resourceOrg = orgOf(state, check.resourceAccount)
  return {
    ...principal.context,
    'aws:CurrentTime': now.toISOString(),
    'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
    'aws:RequestedRegion': region,
    // The SDK reaches AWS over TLS; the emulator's loopback HTTP stands for that.
    'aws:SecureTransport': 'true',
    'aws:ResourceAccount': check.resourceAccount,
    ...(resourceOrg ? { 'aws:ResourceOrgID': resourceOrg } : {}),
    ...check.context
  }
}

/**
 * Evaluates one check for a principal; throws AccessDenied as the service would. Returns the
 * request it evaluated, for recording which statements granted it.
 */
function enforce(
  state: EmulatorState,
  service: ServiceDefinition,
  principal: Principal,
  check: AuthorizationCheck,
  region: string,
  now: Date
): EvaluationRequest {
  const request: EvaluationRequest = {
    principal: principal.arn,
    action: check.action,
    resource: check.resource,
    resourceAccount: check.resourceAccount,
    context: requestContext(state, principal, check, region, now),
    identityPolicies: principal.identityPolicies,
    permissionsBoundary: principal.permissionsBoundary,
    resourcePolicy: check.resourcePolicy
  }
  const decision = evaluate(request)
  if (process.env.DEBUG_AUTHZ && decision !== 'Allowed') console.error(JSON.stringify(request))
  if (decision !== 'Allowed') throw accessDenied(service, deniedMessage(request, decision))
  return request
}

interface Grant {
  readonly origin: string
  readonly sid: string
}

interface StatementView {
  readonly Effect?: unknown
  readonly Sid?: unknown
  readonly Action?: unknown
}

const statementsByDocument = new Map<string, StatementView[]>()

function allowStatements(document: string): StatementView[] {
  let found = statementsByDocument.get(document)
  if (!found) {
    const parsed = JSON.parse(document) as { Statement?: unknown }
    const list = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement]
    found = (list as StatementView[]).filter(statement => statement.Effect === 'Allow')
    statementsByDocument.set(document, found)
  }
  return found
}

/** A policy made of one of a document's statements, to evaluate that statement alone. */
function statementAlone(policy: NamedPolicy, statement: StatementView): NamedPolicy {
  return {
    name: `${policy.name}#${String(statement.Sid)}`,
    document: JSON.stringify({ Version: '2012-10-17', Statement: [statement] })
  }
}

function grantOf(origin: string, statement: StatementView): Grant {
  return { origin, sid: typeof statement.Sid === 'string' ? statement.Sid : '(no Sid)' }
}

/**
 * The template statements that granted a check that passed (origin and Sid), for the
 * least-privilege test: those of the caller's identity policies, and those of a resource policy
 * a template wrote (a key policy). Each statement is evaluated alone, with the other side's
 * policies, to find the ones that allow this request (wildcards and NotAction included).
 */
function grantingStatements(principal: Principal, evaluated: EvaluationRequest): Grant[] {
  return [...identityGrants(principal, evaluated), ...resourcePolicyGrants(evaluated)]
}

/** The key policy statements that allow the request, with the caller's policies. */
function resourcePolicyGrants(evaluated: EvaluationRequest): Grant[] {
  const policy = evaluated.resourcePolicy
  const origin = policy?.origin
  if (!policy || origin === undefined) return []
  return allowStatements(policy.document)
    .filter(
      statement =>
        evaluate({ ...evaluated, resourcePolicy: statementAlone(policy, statement) }) === 'Allowed'
    )
    .map(statement => grantOf(origin, statement))
}

/**
 * The identity policy statements that allow the request: none when the resource policy allowed
 * it alone (as it may within one account).
 */
function identityGrants(principal: Principal, evaluated: EvaluationRequest): Grant[] {
  // The request as it was evaluated (its resource policy included), with other identity policies.
  const allowedWith = (policies: readonly NamedPolicy[]) =>
    evaluate({ ...evaluated, identityPolicies: policies }) === 'Allowed'
  if (evaluated.resourcePolicy && allowedWith([])) return []
  // Each Allow statement alone, with the resource policy: the ones that allow this request.
  return principal.identityPolicies.flatMap(({ origin, ...policy }) =>
    origin === undefined
      ? []
      : allowStatements(policy.document)
          .filter(statement => allowedWith([statementAlone(policy, statement)]))
          .map(statement => grantOf(origin, statement))
  )
}

export class Authorizer {
  readonly recorder = new PermissionRecorder()

  /** Throws AccessDenied unless every check of the request is allowed. */
  authorize(request: AuthorizationRequest): void {
    const { state, service, operation, caller } = request
    if (caller.kind === 'anonymous') return
    const account = state.accounts.get(caller.accountId)
    const principal = principalOf(state, caller)
    if (!account || !principal) throw accessDenied(service, `Unknown account ${caller.accountId}`)
    const checks = checksFor(
      service.name,
      operation,
      { state, region: request.region, caller, account },
      request.params
    )
    if (checks === undefined) {
      throw new ServiceError(
        'InternalFailure',
        `The emulator has no authorization model for ${service.name}:${operation}; add it to test/emulator/authz/requests.ts.`,
        500
      )
    }
    const evaluated = checks.map(check =>
      enforce(state, service, principal, check, request.region, request.now)
    )
    for (const each of evaluated) this.recordUse(principal, caller, request.userAgent, each)
  }

  /** One check on behalf of an operation (see RequestContext.authorize). */
  authorizeCheck(
    request: Omit<AuthorizationRequest, 'operation' | 'params'> & { check: AuthorizationCheck }
  ): void {
    const { state, service, caller, check } = request
    const principal = principalOf(state, caller)
    if (!principal) throw accessDenied(service, `Not authorized to perform ${check.action}`)
    const evaluated = enforce(state, service, principal, check, request.region, request.now)
    this.recordUse(principal, caller, request.userAgent, evaluated)
  }

  /**
   * Records what the action's own roles used (recognised by its user agent, so test helpers
   * acting as an operator do not count), and what IAM users used: applications reading the key
   * the action stored for them.
   */
  private recordUse(
    principal: Principal,
    caller: Caller,
    userAgent: string | undefined,
    evaluated: EvaluationRequest
  ): void {
    const fromAction = userAgent?.includes(ACTION_USER_AGENT) === true
    if (!fromAction && caller.kind !== 'user') return
    for (const grant of grantingStatements(principal, evaluated)) {
      this.recorder.record({ ...grant, action: evaluated.action })
    }
  }
}
