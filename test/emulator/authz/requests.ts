import { parseEntityArn } from '../iam-model.js'
import type { RequestParams } from '../protocol/values.js'
import type { Caller, ServiceName } from '../service.js'
import { keyPolicyCheck, resolveKmsKey } from '../services/kms.js'
import { lookupSecret, secretArn } from '../services/secretsmanager.js'
import { addressOf, sendingIdentity } from '../services/ses.js'
import type { Account, EmulatorState } from '../state.js'
import type { NamedPolicy } from './evaluate.js'

/**
 * What each operation asks IAM to allow: its action, the resource ARN it acts on (the account
 * that owns it), the request's own condition keys, and the resource's policy. This is the
 * emulator's version of the Service Authorization Reference, for the operations it serves;
 * an operation missing here is refused, so nothing is served unchecked.
 */

export interface AuthorizationCheck {
  readonly action: string
  readonly resource: string
  readonly resourceAccount: string
  readonly context?: Readonly<Record<string, string | string[]>>
  readonly resourcePolicy?: NamedPolicy | undefined
}

export interface RequestScope {
  readonly state: EmulatorState
  readonly region: string
  readonly caller: Exclude<Caller, { kind: 'anonymous' }>
  /** The caller's account. */
  readonly account: Account
}

type Describe = (scope: RequestScope, params: RequestParams) => AuthorizationCheck[]

function check(
  scope: RequestScope,
  action: string,
  resource: string,
  extra: Partial<Omit<AuthorizationCheck, 'action' | 'resource'>> = {}
): AuthorizationCheck[] {
  return [{ action, resource, resourceAccount: scope.account.id, ...extra }]
}

function tagKeysContext(tags: readonly RequestParams[]): Record<string, string | string[]> {
  if (tags.length === 0) return {}
  const context: Record<string, string | string[]> = {
    'aws:TagKeys': tags.map(tag => tag.requiredString('Key'))
  }
  for (const tag of tags)
    context[`aws:RequestTag/${tag.requiredString('Key')}`] = tag.string('Value') ?? ''
  return context
}

function resourceTags(
  tags: ReadonlyMap<string, string>,
  ...prefixes: string[]
): Record<string, string> {
  const context: Record<string, string> = {}
  for (const [key, value] of tags)
    for (const prefix of prefixes) context[`${prefix}/${key}`] = value
  return context
}

// ----- IAM (global; every resource is in the caller's account) --------------------------------

function userName(scope: RequestScope, params: RequestParams): string {
  const name = params.string('UserName')
  if (name !== undefined) return name
  return scope.caller.kind === 'user' ? scope.caller.userName : ''
}

/** The ARN of user `name` (its real path when it exists), and its tags as resource tags. */
function userResource(
  scope: RequestScope,
  name: string
): { arn: string; context: Record<string, string> } {
  const user = scope.account.iam.users.get(name)
  return {
    arn: user?.arn ?? `arn:aws:iam::${scope.account.id}:user/${name}`,
    context: user ? resourceTags(user.tags, 'aws:ResourceTag', 'iam:ResourceTag') : {}
  }
}

function onUser(
  action: string,
  context?: (params: RequestParams) => Record<string, string | string[]>
): Describe {
  return (scope, params) => {
    const user = userResource(scope, userName(scope, params))
    return check(scope, `iam:${action}`, user.arn, {
      context: { ...user.context, ...context?.(params) }
    })
  }
}

const everything =
  (action: string): Describe =>
  scope =>
    check(scope, action, '*')

function keyOwner(scope: RequestScope, params: RequestParams): string {
  const id = params.string('AccessKeyId') ?? ''
  const key = scope.state.accessKeys.get(id)
  return key?.accountId === scope.account.id ? key.userName : userName(scope, params)
}

function boundaryContext(arn: string | undefined): Record<string, string> {
  return arn === undefined ? {} : { 'iam:PermissionsBoundary': arn }
}

/**
 * SimulatePrincipalPolicy acts on the policy source entity (its real ARN when it exists), in the
 * account its ARN names: IAM grants nothing across accounts, so another account's is refused.
 */
const simulatePrincipalPolicy: Describe = (scope, params) => {
  const arn = params.string('PolicySourceArn') ?? ''
  const parsed = parseEntityArn(arn)
  const local = parsed?.accountId === scope.account.id ? parsed : undefined
  const iam = scope.account.iam
  const entity =
    local?.kind === 'user'
      ? iam.users.get(local.name)
      : local?.kind === 'role'
        ? iam.roles.get(local.name)
        : local?.kind === 'group'
          ? iam.groups.get(local.name)
          : undefined
  const tags = entity && 'tags' in entity ? entity.tags : undefined
  return check(scope, 'iam:SimulatePrincipalPolicy', entity?.arn ?? arn, {
    resourceAccount: parsed?.accountId ?? scope.account.id,
    context: tags ? resourceTags(tags, 'aws:ResourceTag', 'iam:ResourceTag') : {}
  })
}

const IAM: Record<string, Describe> = {
  ListUsers: everything('iam:ListUsers'),
  CreateUser: onUser('CreateUser', params => ({
    ...tagKeysContext(params.structList('Tags')),
    ...boundaryContext(params.string('PermissionsBoundary'))
  })),
  GetUser: onUser('GetUser'),
  ListUserTags: onUser('ListUserTags'),
  TagUser: onUser('TagUser', params => tagKeysContext(params.structList('Tags'))),
  UntagUser: onUser('UntagUser', params => ({ 'aws:TagKeys': params.stringList('TagKeys') })),
  GetGroup: (scope, params) => {
    const name = params.requiredString('GroupName')
    const arn =
      scope.account.iam.groups.get(name)?.arn ?? `arn:aws:iam::${scope.account.id}:group/${name}`
    return check(scope, 'iam:GetGroup', arn)
  },
  ListGroupsForUser: onUser('ListGroupsForUser'),
  ListAccessKeys: onUser('ListAccessKeys'),
  GetAccessKeyLastUsed: (scope, params) => {
    const user = userResource(scope, keyOwner(scope, params))
    return check(scope, 'iam:GetAccessKeyLastUsed', user.arn, { context: user.context })
  },
  CreateAccessKey: onUser('CreateAccessKey'),
  UpdateAccessKey: onUser('UpdateAccessKey'),
  DeleteAccessKey: onUser('DeleteAccessKey'),
  GenerateCredentialReport: everything('iam:GenerateCredentialReport'),
  GetCredentialReport: everything('iam:GetCredentialReport'),
  PutUserPolicy: onUser('PutUserPolicy'),
  GetUserPolicy: onUser('GetUserPolicy'),
  DeleteUserPolicy: onUser('DeleteUserPolicy'),
  ListUserPolicies: onUser('ListUserPolicies'),
  AttachUserPolicy: onUser('AttachUserPolicy', params => ({
    'iam:PolicyARN': params.string('PolicyArn') ?? ''
  })),
  DetachUserPolicy: onUser('DetachUserPolicy', params => ({
    'iam:PolicyARN': params.string('PolicyArn') ?? ''
  })),
  ListAttachedUserPolicies: onUser('ListAttachedUserPolicies'),
  GetAccountAuthorizationDetails: everything('iam:GetAccountAuthorizationDetails'),
  PutUserPermissionsBoundary: onUser('PutUserPermissionsBoundary', params =>
    boundaryContext(params.string('PermissionsBoundary'))
  ),
  // The boundary being removed is the one the condition key names.
  DeleteUserPermissionsBoundary: (scope, params) => {
    const name = userName(scope, params)
    const user = userResource(scope, name)
    return check(scope, 'iam:DeleteUserPermissionsBoundary', user.arn, {
      context: {
        ...user.context,
        ...boundaryContext(scope.account.iam.users.get(name)?.permissionsBoundary)
      }
    })
  },
  SimulatePrincipalPolicy: simulatePrincipalPolicy,
  CreatePolicy: (scope, params) =>
    check(
      scope,
      'iam:CreatePolicy',
      `arn:aws:iam::${scope.account.id}:policy${params.string('Path') ?? '/'}${params.requiredString('PolicyName')}`
    ),
  GetPolicy: (scope, params) => check(scope, 'iam:GetPolicy', params.requiredString('PolicyArn')),
  PutRolePolicy: (scope, params) => {
    const name = params.requiredString('RoleName')
    return check(
      scope,
      'iam:PutRolePolicy',
      scope.account.iam.roles.get(name)?.arn ?? `arn:aws:iam::${scope.account.id}:role/${name}`
    )
  },
  GetRole: (scope, params) => {
    const name = params.requiredString('RoleName')
    return check(
      scope,
      'iam:GetRole',
      scope.account.iam.roles.get(name)?.arn ?? `arn:aws:iam::${scope.account.id}:role/${name}`
    )
  },
  CreateRole: (scope, params) =>
    check(
      scope,
      'iam:CreateRole',
      `arn:aws:iam::${scope.account.id}:role${params.string('Path') ?? '/'}${params.requiredString('RoleName')}`,
      {
        context: tagKeysContext(params.structList('Tags'))
      }
    )
}

// ----- Organizations ---------------------------------------------------------------------------

/**
 * The organization's resources are named in the management account, but Organizations has no
 * resource policies: only the caller's identity policies decide (the service itself lets only
 * the management account list the organization).
 */
function organizationsCheck(
  scope: RequestScope,
  operation: string,
  resource: string
): AuthorizationCheck[] {
  return check(scope, `organizations:${operation}`, resource)
}

function parentArn(state: EmulatorState, id: string): string {
  const { organization } = state
  if (id === organization.rootId) return organization.rootArn
  const ou = state.organizationalUnits.get(id)
  return (
    ou?.arn ??
    `arn:aws:organizations::${organization.managementAccountId}:ou/${organization.id}/${id}`
  )
}

function accountArn(state: EmulatorState, id: string): string {
  const { organization } = state
  return (
    state.accounts.get(id)?.arn ??
    `arn:aws:organizations::${organization.managementAccountId}:account/${organization.id}/${id}`
  )
}

const onParent =
  (operation: string): Describe =>
  (scope, params) =>
    organizationsCheck(scope, operation, parentArn(scope.state, params.string('ParentId') ?? ''))

const ORGANIZATIONS: Record<string, Describe> = {
  DescribeOrganization: scope => organizationsCheck(scope, 'DescribeOrganization', '*'),
  ListAccounts: scope => organizationsCheck(scope, 'ListAccounts', '*'),
  ListRoots: scope => organizationsCheck(scope, 'ListRoots', '*'),
  DescribeAccount: (scope, params) =>
    organizationsCheck(
      scope,
      'DescribeAccount',
      accountArn(scope.state, params.string('AccountId') ?? '')
    ),
  ListChildren: onParent('ListChildren'),
  ListAccountsForParent: onParent('ListAccountsForParent'),
  ListOrganizationalUnitsForParent: onParent('ListOrganizationalUnitsForParent'),
  DescribeOrganizationalUnit: (scope, params) =>
    organizationsCheck(
      scope,
      'DescribeOrganizationalUnit',
      parentArn(scope.state, params.string('OrganizationalUnitId') ?? '')
    ),
  ListParents: (scope, params) => {
    const child = params.string('ChildId') ?? ''
    const resource = /^\d{12}$/.test(child)
      ? accountArn(scope.state, child)
      : parentArn(scope.state, child)
    return organizationsCheck(scope, 'ListParents', resource)
  }
}

// ----- Secrets Manager (the caller's account and region) --------------------------------------

function secretChecks(
  operation: string,
  context?: (params: RequestParams) => Record<string, string | string[]>
): Describe {
  return (scope, params) => {
    const id = params.string('SecretId') ?? params.string('Name') ?? ''
    const secret = lookupSecret(scope.state, scope.account, scope.region, id)
    const resource = secret
      ? secretArn(secret, scope.region)
      : id.startsWith('arn:')
        ? id
        : `arn:aws:secretsmanager:${scope.region}:${scope.account.id}:secret:${id}`
    const owner = secret?.accountId ?? /^arn:aws:secretsmanager:[^:]+:(\d{12}):/.exec(id)?.[1]
    return check(scope, `secretsmanager:${operation}`, resource, {
      ...(owner ? { resourceAccount: owner } : {}),
      context: {
        'secretsmanager:SecretId': resource,
        ...(secret
          ? resourceTags(secret.tags, 'aws:ResourceTag', 'secretsmanager:ResourceTag')
          : {}),
        ...context?.(params)
      },
      resourcePolicy:
        secret?.resourcePolicy === undefined
          ? undefined
          : { name: `${secret.name} resource policy`, document: secret.resourcePolicy }
    })
  }
}

/** CreateSecret also needs TagResource for its Tags, and ReplicateSecretToRegions for replicas. */
const createSecretOnly = secretChecks('CreateSecret', params => ({
  'secretsmanager:Name': params.requiredString('Name'),
  ...(params.string('KmsKeyId')
    ? { 'secretsmanager:KmsKeyId': params.string('KmsKeyId') ?? '' }
    : {}),
  ...tagKeysContext(params.structList('Tags'))
}))

const createSecret: Describe = (scope, params) => {
  const checks = createSecretOnly(scope, params)
  const regions = params.structList('AddReplicaRegions').map(r => r.requiredString('Region'))
  const tagged = params.structList('Tags').length > 0
  return checks.flatMap(first => [
    first,
    // Tags given to CreateSecret need secretsmanager:TagResource too, with the same tag keys.
    ...(tagged ? [{ ...first, action: 'secretsmanager:TagResource' }] : []),
    ...(regions.length > 0
      ? [
          {
            ...first,
            action: 'secretsmanager:ReplicateSecretToRegions',
            context: { ...first.context, 'secretsmanager:AddReplicaRegions': regions }
          }
        ]
      : [])
  ])
}

const SECRETS_MANAGER: Record<string, Describe> = {
  CreateSecret: createSecret,
  DescribeSecret: secretChecks('DescribeSecret'),
  PutSecretValue: secretChecks('PutSecretValue'),
  UpdateSecret: secretChecks('UpdateSecret', params => ({
    ...(params.string('KmsKeyId') !== undefined
      ? { 'secretsmanager:KmsKeyId': params.string('KmsKeyId') ?? '' }
      : {}),
    ...(params.string('Description') !== undefined
      ? { 'secretsmanager:Description': params.string('Description') ?? '' }
      : {})
  })),
  GetSecretValue: secretChecks('GetSecretValue', params => ({
    ...(params.string('VersionStage')
      ? { 'secretsmanager:VersionStage': params.string('VersionStage') ?? '' }
      : {}),
    ...(params.string('VersionId')
      ? { 'secretsmanager:VersionId': params.string('VersionId') ?? '' }
      : {})
  })),
  ListSecretVersionIds: secretChecks('ListSecretVersionIds'),
  ListSecrets: everything('secretsmanager:ListSecrets'),
  PutResourcePolicy: secretChecks('PutResourcePolicy', params => ({
    'secretsmanager:BlockPublicPolicy': String(params.boolean('BlockPublicPolicy') ?? false)
  })),
  GetResourcePolicy: secretChecks('GetResourcePolicy'),
  DeleteResourcePolicy: secretChecks('DeleteResourcePolicy'),
  ReplicateSecretToRegions: secretChecks('ReplicateSecretToRegions', params => ({
    'secretsmanager:AddReplicaRegions': params
      .structList('AddReplicaRegions')
      .map(r => r.requiredString('Region'))
  })),
  RemoveRegionsFromReplication: secretChecks('RemoveRegionsFromReplication'),
  TagResource: secretChecks('TagResource', params => tagKeysContext(params.structList('Tags'))),
  UntagResource: secretChecks('UntagResource', params => ({
    'aws:TagKeys': params.stringList('TagKeys')
  })),
  DeleteSecret: secretChecks('DeleteSecret'),
  RestoreSecret: secretChecks('RestoreSecret')
}

// ----- SES (an identity of the caller's account and region) ----------------------------------

const SES: Record<string, Describe> = {
  SendEmail: (scope, params) => {
    const from = addressOf(params.string('Source') ?? '')
    const identity = sendingIdentity(scope.state, scope.account, scope.region, from)
    return check(
      scope,
      'ses:SendEmail',
      `arn:aws:ses:${scope.region}:${scope.account.id}:identity/${identity}`,
      {
        context: { 'ses:FromAddress': from }
      }
    )
  },
  GetSendQuota: everything('ses:GetSendQuota'),
  VerifyEmailIdentity: (scope, params) =>
    check(
      scope,
      'ses:VerifyEmailIdentity',
      `arn:aws:ses:${scope.region}:${scope.account.id}:identity/${params.string('EmailAddress') ?? ''}`
    )
}

// ----- CloudFormation (the caller's account and region) --------------------------------------

function stackSetArn(scope: RequestScope, name: string): string {
  const existing = scope.account.cloudformation.get(scope.region)?.stackSets.get(name)
  return (
    existing?.arn ??
    `arn:aws:cloudformation:${scope.region}:${scope.account.id}:stackset/${name}:new`
  )
}

/**
 * Stack set operations. With CallAs DELEGATED_ADMIN, CloudFormation also checks the caller's
 * registration through organizations:ListDelegatedAdministrators, under the caller's permissions.
 */
function onStackSet(operation: string, alsoTargets = false): Describe {
  return (scope, params) => {
    const name = params.string('StackSetName') ?? ''
    const arn = stackSetArn(scope, name)
    const checks = check(scope, `cloudformation:${operation}`, arn)
    if (alsoTargets) {
      const id = arn.slice(arn.indexOf(':stackset/') + ':stackset/'.length)
      checks.push(
        ...check(
          scope,
          `cloudformation:${operation}`,
          `arn:aws:cloudformation:${scope.region}:${scope.account.id}:stackset-target/${id}`
        )
      )
    }
    if (params.string('CallAs') === 'DELEGATED_ADMIN') {
      checks.push(...check(scope, 'organizations:ListDelegatedAdministrators', '*'))
    }
    return checks
  }
}

function onStack(operation: string): Describe {
  return (scope, params) => {
    const name = params.string('StackName')
    if (name === undefined) return check(scope, `cloudformation:${operation}`, '*')
    const stacks = scope.account.cloudformation.get(scope.region)?.stacks
    const stack = stacks?.get(name) ?? [...(stacks?.values() ?? [])].find(s => s.id === name)
    const arn =
      stack?.id ??
      (name.startsWith('arn:')
        ? name
        : `arn:aws:cloudformation:${scope.region}:${scope.account.id}:stack/${name}/*`)
    return check(scope, `cloudformation:${operation}`, arn)
  }
}

const CLOUDFORMATION: Record<string, Describe> = {
  CreateStackSet: onStackSet('CreateStackSet'),
  UpdateStackSet: onStackSet('UpdateStackSet', true),
  DescribeStackSet: onStackSet('DescribeStackSet'),
  DeleteStackSet: onStackSet('DeleteStackSet'),
  CreateStackInstances: onStackSet('CreateStackInstances', true),
  DeleteStackInstances: onStackSet('DeleteStackInstances', true),
  ListStackInstances: onStackSet('ListStackInstances'),
  DescribeStackInstance: onStackSet('DescribeStackInstance'),
  DescribeStackSetOperation: onStackSet('DescribeStackSetOperation'),
  CreateStack: onStack('CreateStack'),
  UpdateStack: onStack('UpdateStack'),
  DescribeStacks: onStack('DescribeStacks'),
  GetTemplate: onStack('GetTemplate'),
  DetectStackDrift: onStack('DetectStackDrift'),
  DescribeStackDriftDetectionStatus: everything('cloudformation:DescribeStackDriftDetectionStatus'),
  DeleteStack: onStack('DeleteStack')
}

// ----- KMS (the key the KeyId names: the caller's, or another account's by ARN) ------------

/**
 * An operation on the key the request's KeyId names, decided by its key policy and the caller's
 * policies (see keyPolicyCheck). An unknown key has no policy to ask: the operation answers
 * NotFoundException, as KMS does.
 */
function onKey(
  operation: string,
  context?: (params: RequestParams) => Record<string, string | string[]>
): Describe {
  return (scope, params) => {
    const keyId = params.string('KeyId') ?? ''
    const key = resolveKmsKey(scope.state, scope.account.id, scope.region, keyId)
    if (!key) return []
    const alias = /^(?:arn:aws:kms:[^:]+:\d{12}:)?(alias\/.+)$/.exec(keyId)?.[1]
    return [
      keyPolicyCheck(key, `kms:${operation}`, scope.account.id, {
        ...(alias ? { 'kms:RequestAlias': alias } : {}),
        ...context?.(params)
      })
    ]
  }
}

const signing = (params: RequestParams): Record<string, string> => ({
  'kms:SigningAlgorithm': params.string('SigningAlgorithm') ?? '',
  'kms:MessageType': params.string('MessageType') ?? 'RAW'
})

const KMS: Record<string, Describe> = {
  Sign: onKey('Sign', signing),
  Verify: onKey('Verify', signing),
  GetPublicKey: onKey('GetPublicKey'),
  DescribeKey: onKey('DescribeKey')
}

/** STS: AssumeRole is checked against the role's trust in sts.ts; these need no permission. */
const STS: Record<string, Describe> = {
  GetCallerIdentity: () => [],
  AssumeRole: () => [],
  AssumeRoleWithWebIdentity: () => []
}

const CATALOG: Record<ServiceName, Record<string, Describe>> = {
  iam: IAM,
  organizations: ORGANIZATIONS,
  secretsmanager: SECRETS_MANAGER,
  ses: SES,
  cloudformation: CLOUDFORMATION,
  sts: STS,
  kms: KMS
}

/** The checks a request must pass; undefined when the emulator has no model of the operation. */
export function checksFor(
  service: ServiceName,
  operation: string,
  scope: RequestScope,
  params: RequestParams
): AuthorizationCheck[] | undefined {
  const describe = CATALOG[service][operation]
  return describe?.(scope, params)
}
