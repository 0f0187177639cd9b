import { addSeconds } from '../clock.js'
import { evaluate } from '../authz/evaluate.js'
import { GITHUB_OIDC_PROVIDER, parseRoleArn } from '../iam-model.js'
import { ServiceError } from '../protocol/errors.js'
import type { RequestParams, ResponseValue } from '../protocol/values.js'
import { fakeSessionToken } from '../random.js'
import {
  callerAccount,
  callerArn,
  operations,
  queryValidationError,
  type QueryServiceDefinition,
  type RequestContext
} from '../service.js'
import type { Account, IamRole, Session } from '../state.js'

/** STS (AWS Query): role sessions are real boundaries; their credentials act in one account. */

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/
const ROLE_CHAINING_LIMIT_SECONDS = 3600

const validation = (message: string): ServiceError => new ServiceError('ValidationError', message)

interface RoleTarget {
  account: Account | undefined
  role: IamRole | undefined
}

function findRole(ctx: RequestContext, roleArn: string): RoleTarget {
  const parsed = parseRoleArn(roleArn)
  if (!parsed) throw validation(`${roleArn} is not a valid role ARN.`)
  const account = ctx.state.accounts.get(parsed.accountId)
  return { account, role: account?.iam.roles.get(parsed.name) }
}

function sessionParameters(params: RequestParams): { sessionName: string; duration: number } {
  const sessionName = params.requiredString('RoleSessionName')
  if (!SESSION_NAME.test(sessionName)) {
    throw validation(
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`
    )
  }
  const duration = params.integer('DurationSeconds') ?? 3600
  if (duration < 900) {
    throw validation(
      `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`
    )
  }
  return { sessionName, duration }
}

function issueSession(
  ctx: RequestContext,
  account: Account,
  role: IamRole,
  sessionName: string,
  duration: number
): { response: Record<string, ResponseValue>; session: Session } {
  const session: Session = {
    accessKeyId: ctx.state.ids.sessionAccessKeyId(),
    accountId: account.id,
    roleName: role.name,
    roleArn: role.arn,
    roleId: role.id,
    sessionName,
    arn: `arn:aws:sts::${account.id}:assumed-role/${role.name}/${sessionName}`,
    expiration: addSeconds(ctx.now, duration)
  }
  ctx.state.sessions.set(session.accessKeyId, session)
  return {
    session,
    response: {
      Credentials: {
        AccessKeyId: session.accessKeyId,
        SecretAccessKey: ctx.issueSecretAccessKey(),
        SessionToken: fakeSessionToken(),
        Expiration: session.expiration
      },
      AssumedRoleUser: { AssumedRoleId: `${role.id}:${sessionName}`, Arn: session.arn }
    }
  }
}

function assumeRole(ctx: RequestContext, params: RequestParams): ResponseValue {
  callerAccount(ctx)
  const roleArn = params.requiredString('RoleArn')
  const { sessionName, duration } = sessionParameters(params)
  const { account, role } = findRole(ctx, roleArn)
  if (
    account === undefined ||
    role === undefined ||
    account.status !== 'ACTIVE' ||
    ctx.faults.isAssumeRoleDenied(account.id)
  ) {
    throw new ServiceError(
      'AccessDenied',
      `User: ${callerArn(ctx.caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`
    )
  }
  // The caller's identity policies and the role's trust policy (the library applies STS's rule
  // that a trust policy must allow the caller even within one account).
  ctx.authorize({
    action: 'sts:AssumeRole',
    resource: role.arn,
    resourceAccount: account.id,
    context: { 'sts:RoleSessionName': sessionName },
    resourcePolicy: { name: `${role.name} trust policy`, document: role.trust.document }
  })
  if (ctx.caller.kind === 'session' && duration > ROLE_CHAINING_LIMIT_SECONDS) {
    throw validation(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.'
    )
  }
  if (duration > role.maxSessionDuration) {
    throw validation(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.'
    )
  }
  return {
    ...issueSession(ctx, account, role, sessionName, duration).response,
    PackedPolicySize: 0
  }
}

/** The claims of a JWT, or undefined when the token is not one (the signature is not checked). */
function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    return typeof claims === 'object' && claims !== null
      ? (claims as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/**
 * The claims a GitHub token makes available to trust conditions, as
 * `token.actions.githubusercontent.com:CLAIM`. AWS exposes these claims and no others (not
 * `event_name`, for example), so a trust cannot depend on the rest.
 */
const GITHUB_CONDITION_CLAIMS = [
  'sub',
  'aud',
  'actor',
  'actor_id',
  'enterprise_id',
  'environment',
  'job_workflow_ref',
  'ref',
  'repository',
  'repository_id',
  'repository_owner_id',
  'workflow'
]

function oidcContext(claims: Record<string, unknown>): Record<string, string> {
  const context: Record<string, string> = {}
  for (const claim of GITHUB_CONDITION_CLAIMS) {
    const value = claims[claim]
    if (typeof value === 'string') context[`${GITHUB_OIDC_PROVIDER}:${claim}`] = value
  }
  return context
}

function assumeRoleWithWebIdentity(ctx: RequestContext, params: RequestParams): ResponseValue {
  const roleArn = params.requiredString('RoleArn')
  const token = params.requiredString('WebIdentityToken')
  const { sessionName, duration } = sessionParameters(params)
  const { account, role } = findRole(ctx, roleArn)
  const claims = jwtClaims(token)
  if (!claims) {
    throw new ServiceError(
      'InvalidIdentityToken',
      'The web identity token that was passed could not be validated by AWS.'
    )
  }
  const subject = typeof claims.sub === 'string' ? claims.sub : undefined
  const audience = typeof claims.aud === 'string' ? claims.aud : undefined
  const denied = new ServiceError(
    'AccessDenied',
    'Not authorized to perform sts:AssumeRoleWithWebIdentity'
  )
  if (account === undefined || role === undefined || account.status !== 'ACTIVE') throw denied
  if (ctx.faults.isAssumeRoleDenied(account.id)) throw denied
  // IAM checks the token against the account's provider before any policy.
  const providerArn = `arn:aws:iam::${account.id}:oidc-provider/${GITHUB_OIDC_PROVIDER}`
  const provider = account.iam.oidcProviders.get(providerArn)
  if (!provider) {
    throw new ServiceError(
      'InvalidIdentityToken',
      `No OpenIDConnect provider found in your account for https://${GITHUB_OIDC_PROVIDER}`
    )
  }
  if (audience === undefined || !provider.clientIds.includes(audience)) {
    throw new ServiceError('InvalidIdentityToken', 'Incorrect token audience')
  }
  const decision = evaluate({
    principal: providerArn,
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: role.arn,
    resourceAccount: account.id,
    context: {
      ...oidcContext(claims),
      'sts:RoleSessionName': sessionName,
      'aws:CurrentTime': ctx.now.toISOString()
    },
    identityPolicies: [],
    resourcePolicy: { name: `${role.name} trust policy`, document: role.trust.document }
  })
  if (decision !== 'Allowed') throw denied
  if (duration > role.maxSessionDuration) {
    throw validation(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.'
    )
  }
  return {
    ...issueSession(ctx, account, role, sessionName, duration).response,
    SubjectFromWebIdentityToken: subject ?? 'unknown',
    Provider: providerArn,
    Audience: audience,
    PackedPolicySize: 0
  }
}

function getCallerIdentity(ctx: RequestContext): ResponseValue {
  const account = callerAccount(ctx)
  const { caller } = ctx
  if (caller.kind === 'anonymous') return undefined
  return { UserId: caller.userId, Account: account.id, Arn: caller.arn }
}

export const stsService: QueryServiceDefinition = {
  name: 'sts',
  protocol: 'query',
  xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
  missingParameter: queryValidationError,
  faultErrors: {
    throttling: () => new ServiceError('Throttling', 'Rate exceeded'),
    internalErrorCode: 'InternalFailure'
  },
  anonymousOperations: new Set(['AssumeRoleWithWebIdentity']),
  operations: operations({
    AssumeRole: assumeRole,
    AssumeRoleWithWebIdentity: assumeRoleWithWebIdentity,
    GetCallerIdentity: getCallerIdentity
  })
}
