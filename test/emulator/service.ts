import type { AuthorizationCheck } from './authz/requests.js'
import type { FaultErrors, FaultInjector } from './faults.js'
import { ServiceError } from './protocol/errors.js'
import type { MissingParameterError } from './protocol/query.js'
import type { RequestParams, ResponseValue } from './protocol/values.js'
import type { Account, EmulatorState } from './state.js'

/** What every service module provides, and what its operations receive. */

export type ServiceName =
  'iam' | 'sts' | 'organizations' | 'secretsmanager' | 'ses' | 'cloudformation' | 'kms'

/** Who signed the request, resolved from the AKID of its credential scope. */
export type Caller = SessionCaller | UserCaller | RootCaller | AnonymousCaller

/** Temporary credentials (AssumeRole*), or ambient credentials acting as the central role. */
export interface SessionCaller {
  kind: 'session'
  accountId: string
  arn: string
  userId: string
  roleArn: string
  roleName: string
  sessionName: string
  accessKeyId: string
}

/** An IAM user's long-term access key. */
export interface UserCaller {
  kind: 'user'
  accountId: string
  arn: string
  userId: string
  userName: string
  accessKeyId: string
}

/** An account's root credentials: the administrator who deploys the bootstrap templates. */
export interface RootCaller {
  kind: 'root'
  accountId: string
  arn: string
  userId: string
  accessKeyId: string
}

/** An unsigned request (AssumeRoleWithWebIdentity needs no credentials). */
export interface AnonymousCaller {
  kind: 'anonymous'
}

export interface RequestContext {
  readonly state: EmulatorState
  readonly now: Date
  /** Region of the credential scope. */
  readonly region: string
  readonly caller: Caller
  readonly faults: FaultInjector
  /** A new secret access key, recorded in the list of issued secrets. */
  issueSecretAccessKey(): string
  /**
   * Authorizes a permission the operation needs beyond its own action (the target role's trust
   * for AssumeRole, the KMS key behind a secret), as the caller; throws AccessDenied.
   */
  authorize(check: AuthorizationCheck): void
}

export type Operation = (ctx: RequestContext, params: RequestParams) => ResponseValue

interface ServiceDefinitionBase {
  name: ServiceName
  operations: ReadonlyMap<string, Operation>
  /** Operations that may be called unsigned. */
  anonymousOperations?: ReadonlySet<string>
  missingParameter: MissingParameterError
  faultErrors: FaultErrors
}

export interface QueryServiceDefinition extends ServiceDefinitionBase {
  protocol: 'query'
  xmlNamespace: string
}

export interface JsonServiceDefinition extends ServiceDefinitionBase {
  protocol: 'json'
  /** X-Amz-Target prefix, without the dot. */
  targetPrefix: string
}

export type ServiceDefinition = QueryServiceDefinition | JsonServiceDefinition

/** The caller's account; unsigned callers have none. */
export function callerAccount(ctx: RequestContext): Account {
  const { caller } = ctx
  if (caller.kind === 'anonymous') {
    throw new ServiceError('MissingAuthenticationToken', 'Request is missing Authentication Token')
  }
  const account = ctx.state.accounts.get(caller.accountId)
  if (!account) throw new ServiceError('InternalFailure', `Unknown account ${caller.accountId}`)
  return account
}

export function callerArn(caller: Caller): string {
  return caller.kind === 'anonymous' ? 'anonymous' : caller.arn
}

/** Query-protocol validation error, worded like AWS's. */
export function queryValidationError(name: string): ServiceError {
  const member = name.charAt(0).toLowerCase() + name.slice(1)
  return new ServiceError(
    'ValidationError',
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`
  )
}

export function operations(entries: Record<string, Operation>): ReadonlyMap<string, Operation> {
  return new Map(Object.entries(entries))
}
