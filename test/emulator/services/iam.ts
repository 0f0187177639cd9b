import { policyProblems } from '../authz/evaluate.js'
import { boundaryPolicy } from '../authz/principal.js'
import { simulatePolicies, type SimulatedPolicy } from '../authz/simulate.js'
import {
  accountRootArn,
  addAccessKey,
  addUser,
  iamArn,
  MAX_KEYS_PER_USER,
  normalizePath,
  parseEntityArn,
  putRole,
  removeAccessKey,
  trustFromDocument
} from '../iam-model.js'
import { decodeToken, pageOf, pageSize } from '../paging.js'
import { ServiceError } from '../protocol/errors.js'
import { isoSeconds } from '../protocol/query.js'
import type { RequestParams, ResponseObject, ResponseValue } from '../protocol/values.js'
import {
  callerAccount,
  operations,
  queryValidationError,
  type QueryServiceDefinition,
  type RequestContext
} from '../service.js'
import type { AccessKey, Account, IamRole, IamUser, ManagedPolicy } from '../state.js'

/** IAM (AWS Query). Every operation acts on the caller's own account. */

const DEFAULT_MAX_ITEMS = 100
const MAX_TAGS_PER_USER = 50
const MAX_POLICIES_PER_USER = 10
const REPORT_LIFETIME_MS = 4 * 3600_000

const noSuchUser = (name: string): ServiceError =>
  new ServiceError('NoSuchEntity', `The user with name ${name} cannot be found.`)

const noSuchKey = (id: string): ServiceError =>
  new ServiceError('NoSuchEntity', `The Access Key with id ${id} cannot be found.`)

const validation = (message: string): ServiceError => new ServiceError('ValidationError', message)

function user(account: Account, name: string): IamUser {
  const found = account.iam.users.get(name)
  if (!found) throw noSuchUser(name)
  return found
}

/** UserName, or the calling user when omitted (as IAM does for long-term keys). */
function targetUser(ctx: RequestContext, params: RequestParams): IamUser {
  const account = callerAccount(ctx)
  const name = params.string('UserName')
  if (name !== undefined) return user(account, name)
  if (ctx.caller.kind === 'user') return user(account, ctx.caller.userName)
  throw validation('Must specify userName when calling with non-User credentials')
}

function userKey(target: IamUser, id: string): AccessKey {
  const key = target.keys.find(candidate => candidate.id === id)
  if (!key) throw noSuchKey(id)
  return key
}

/** One page of `items` plus IsTruncated/Marker, honouring MaxItems and the world's cap. */
function page<T>(
  ctx: RequestContext,
  params: RequestParams,
  items: readonly T[]
): { items: T[]; IsTruncated: boolean; Marker: string | undefined } {
  const token = decodeToken(params.string('Marker'), () => validation('Invalid Marker.'))
  const size = pageSize(
    params.integer('MaxItems'),
    DEFAULT_MAX_ITEMS,
    ctx.state.config.pageSizes.iam
  )
  const { items: pageItems, next } = pageOf(items, token?.offset ?? 0, size)
  return { items: pageItems, IsTruncated: next !== undefined, Marker: next }
}

function tagList(tags: ReadonlyMap<string, string>): ResponseObject[] {
  return [...tags].map(([Key, Value]) => ({ Key, Value }))
}

function readTags(params: RequestParams, name = 'Tags'): Map<string, string> {
  return new Map(
    params.structList(name).map(tag => [tag.requiredString('Key'), tag.string('Value') ?? ''])
  )
}

function boundaryView(arn: string | undefined): ResponseObject | undefined {
  return arn === undefined
    ? undefined
    : { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: arn }
}

/** A user; `full` adds what GetUser returns and ListUsers does not (boundary, tags). */
function userView(target: IamUser, full: boolean): ResponseObject {
  return {
    Path: target.path,
    UserName: target.name,
    UserId: target.id,
    Arn: target.arn,
    CreateDate: target.createDate,
    PermissionsBoundary: full ? boundaryView(target.permissionsBoundary) : undefined,
    Tags: full && target.tags.size > 0 ? tagList(target.tags) : undefined
  }
}

function roleView(role: IamRole): ResponseObject {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.id,
    Arn: role.arn,
    CreateDate: role.createDate,
    // IAM returns policy documents URL-encoded (RFC 3986); callers must decode them.
    AssumeRolePolicyDocument: encodeURIComponent(role.trust.document),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    Tags: role.tags.size > 0 ? tagList(role.tags) : undefined,
    RoleLastUsed: {}
  }
}

function policyView(
  policy: ManagedPolicy,
  attachmentCount: number,
  boundaryUsageCount: number
): ResponseObject {
  return {
    PolicyName: policy.name,
    PolicyId: policy.id,
    Arn: policy.arn,
    Path: policy.path,
    DefaultVersionId: 'v1',
    AttachmentCount: attachmentCount,
    PermissionsBoundaryUsageCount: boundaryUsageCount,
    IsAttachable: true,
    Description: policy.description,
    CreateDate: policy.createDate,
    UpdateDate: policy.createDate,
    Tags: policy.tags.size > 0 ? tagList(policy.tags) : undefined
  }
}

function checkPolicyDocument(document: string): void {
  let parsed: unknown
  try {
    parsed = JSON.parse(document)
  } catch {
    throw new ServiceError('MalformedPolicyDocument', 'This policy contains invalid Json')
  }
  if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed)) {
    throw new ServiceError('MalformedPolicyDocument', 'Syntax errors in policy.')
  }
}

// ----- credential report ---------------------------------------------------------------------

/** The real report's columns, in order. */
export const CREDENTIAL_REPORT_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated'
] as const

const reportTime = (date: Date): string => isoSeconds(date).replace('Z', '+00:00')
const NO_KEY = ['false', 'N/A', 'N/A', 'N/A', 'N/A']
const NO_CERTS = ['false', 'N/A', 'false', 'N/A']

function keyColumns(key: AccessKey | undefined): string[] {
  if (!key) return NO_KEY
  const used = key.lastUsed
  return [
    key.status === 'Active' ? 'true' : 'false',
    reportTime(key.createDate),
    used ? reportTime(used.date) : 'N/A',
    used ? used.region : 'N/A',
    used ? used.service : 'N/A'
  ]
}

export function credentialReportCsv(account: Account): string {
  const rootRow = [
    '<root_account>',
    accountRootArn(account.id),
    reportTime(account.joinedTimestamp),
    'not_supported',
    'no_information',
    'not_supported',
    'not_supported',
    'false',
    ...NO_KEY,
    ...NO_KEY,
    ...NO_CERTS
  ]
  const userRows = [...account.iam.users.values()].map(member => {
    const keys = [...member.keys].sort((a, b) => a.createDate.getTime() - b.createDate.getTime())
    return [
      member.name,
      member.arn,
      reportTime(member.createDate),
      'false',
      'N/A',
      'N/A',
      'N/A',
      'false',
      ...keyColumns(keys[0]),
      ...keyColumns(keys[1]),
      ...NO_CERTS
    ]
  })
  return [CREDENTIAL_REPORT_COLUMNS, rootRow, ...userRows].map(row => row.join(',')).join('\n')
}

// ----- operations ----------------------------------------------------------------------------

function listUsers(ctx: RequestContext, params: RequestParams): ResponseValue {
  const prefix = params.string('PathPrefix') ?? '/'
  const all = [...callerAccount(ctx).iam.users.values()].filter(u => u.path.startsWith(prefix))
  const { items, ...truncation } = page(ctx, params, all)
  return { Users: items.map(u => userView(u, false)), ...truncation }
}

function createUser(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const name = params.requiredString('UserName')
  if (account.iam.users.has(name)) {
    throw new ServiceError('EntityAlreadyExists', `User with name ${name} already exists.`)
  }
  const boundary = params.string('PermissionsBoundary')
  if (boundary !== undefined) attachablePolicyName(account, boundary)
  const created = addUser(ctx.state, account, {
    name,
    path: params.string('Path'),
    createDate: ctx.now,
    tags: readTags(params)
  })
  created.permissionsBoundary = boundary
  return { User: userView(created, true) }
}

function getUser(ctx: RequestContext, params: RequestParams): ResponseValue {
  return { User: userView(targetUser(ctx, params), true) }
}

function listUserTags(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  const { items, ...truncation } = page(ctx, params, tagList(target.tags))
  return { Tags: items, ...truncation }
}

function tagUser(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  const merged = new Map([...target.tags, ...readTags(params)])
  if (merged.size > MAX_TAGS_PER_USER) {
    throw new ServiceError('LimitExceeded', 'The number of tags has reached the maximum limit.')
  }
  target.tags = merged
  return undefined
}

function untagUser(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  const remaining = new Map(target.tags)
  for (const key of params.stringList('TagKeys')) remaining.delete(key)
  target.tags = remaining
  return undefined
}

function getGroup(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const name = params.requiredString('GroupName')
  const group = account.iam.groups.get(name)
  if (!group) throw new ServiceError('NoSuchEntity', `The group with name ${name} cannot be found.`)
  const members = group.members.flatMap(member => account.iam.users.get(member) ?? [])
  const { items, ...truncation } = page(ctx, params, members)
  return {
    Group: {
      Path: group.path,
      GroupName: group.name,
      GroupId: group.id,
      Arn: group.arn,
      CreateDate: group.createDate
    },
    Users: items.map(u => userView(u, false)),
    ...truncation
  }
}

function listGroupsForUser(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const target = user(account, params.requiredString('UserName'))
  const groups = [...target.groups].flatMap(name => account.iam.groups.get(name) ?? [])
  const { items, ...truncation } = page(ctx, params, groups)
  return {
    Groups: items.map(g => ({
      Path: g.path,
      GroupName: g.name,
      GroupId: g.id,
      Arn: g.arn,
      CreateDate: g.createDate
    })),
    ...truncation
  }
}

function listAccessKeys(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = targetUser(ctx, params)
  const { items, ...truncation } = page(ctx, params, target.keys)
  return {
    AccessKeyMetadata: items.map(key => ({
      UserName: target.name,
      AccessKeyId: key.id,
      Status: key.status,
      CreateDate: key.createDate
    })),
    ...truncation
  }
}

function getAccessKeyLastUsed(ctx: RequestContext, params: RequestParams): ResponseValue {
  const id = params.requiredString('AccessKeyId')
  const key = ctx.state.accessKeys.get(id)
  if (!key || key.accountId !== callerAccount(ctx).id) throw noSuchKey(id)
  return {
    UserName: key.userName,
    AccessKeyLastUsed: {
      LastUsedDate: key.lastUsed?.date,
      ServiceName: key.lastUsed?.service ?? 'N/A',
      Region: key.lastUsed?.region ?? 'N/A'
    }
  }
}

function createAccessKey(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = targetUser(ctx, params)
  if (target.keys.length >= MAX_KEYS_PER_USER) {
    throw new ServiceError(
      'LimitExceeded',
      `Cannot exceed quota for AccessKeysPerUser: ${MAX_KEYS_PER_USER}`
    )
  }
  const { state } = ctx
  let id = state.ids.accessKeyId()
  while (state.accessKeys.has(id) || state.retiredAccessKeyIds.has(id)) id = state.ids.accessKeyId()
  const key = addAccessKey(state, target, callerAccount(ctx).id, {
    id,
    status: 'Active',
    createDate: ctx.now
  })
  return {
    AccessKey: {
      UserName: target.name,
      AccessKeyId: key.id,
      Status: key.status,
      SecretAccessKey: ctx.issueSecretAccessKey(),
      CreateDate: key.createDate
    }
  }
}

function updateAccessKey(ctx: RequestContext, params: RequestParams): ResponseValue {
  const key = userKey(targetUser(ctx, params), params.requiredString('AccessKeyId'))
  const status = params.requiredString('Status')
  if (status !== 'Active' && status !== 'Inactive') {
    throw validation(
      `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`
    )
  }
  key.status = status
  return undefined
}

function deleteAccessKey(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = targetUser(ctx, params)
  removeAccessKey(ctx.state, target, userKey(target, params.requiredString('AccessKeyId')))
  return undefined
}

function generateCredentialReport(ctx: RequestContext): ResponseValue {
  const account = callerAccount(ctx)
  const report = account.iam.credentialReport
  const stale = !report || ctx.now.getTime() - report.generatedTime.getTime() > REPORT_LIFETIME_MS
  if (stale) {
    // The content is fixed now, as AWS snapshots the account when generation starts.
    account.iam.credentialReport = {
      state: 'STARTED',
      generatedTime: ctx.now,
      content: credentialReportCsv(account)
    }
    return {
      State: 'STARTED',
      Description: 'No report exists. Starting a new report generation task'
    }
  }
  report.state = 'COMPLETE'
  return { State: 'COMPLETE' }
}

function getCredentialReport(ctx: RequestContext): ResponseValue {
  const account = callerAccount(ctx)
  const report = account.iam.credentialReport
  if (!report || ctx.faults.isCredentialReportUnavailable(account.id)) {
    throw new ServiceError(
      'ReportNotPresent',
      'Credential report not present. Use GenerateCredentialReport to generate a report.'
    )
  }
  if (report.state === 'STARTED') {
    // Ready for the next call: one poll sees it in progress, as a fast real report would.
    report.state = 'COMPLETE'
    throw new ServiceError('ReportInProgress', 'Report generation in progress.')
  }
  if (ctx.now.getTime() - report.generatedTime.getTime() > REPORT_LIFETIME_MS) {
    throw new ServiceError(
      'ReportExpired',
      'The credential report has expired. Use GenerateCredentialReport to generate a new report.'
    )
  }
  return {
    Content: Buffer.from(report.content).toString('base64'),
    ReportFormat: 'text/csv',
    GeneratedTime: report.generatedTime
  }
}

function putUserPolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  const document = params.requiredString('PolicyDocument')
  checkPolicyDocument(document)
  target.inlinePolicies = new Map(target.inlinePolicies).set(
    params.requiredString('PolicyName'),
    document
  )
  return undefined
}

function putRolePolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const name = params.requiredString('RoleName')
  const role = callerAccount(ctx).iam.roles.get(name)
  if (!role) throw new ServiceError('NoSuchEntity', `The role with name ${name} cannot be found.`)
  const document = params.requiredString('PolicyDocument')
  checkPolicyDocument(document)
  role.inlinePolicies = new Map(role.inlinePolicies).set(
    params.requiredString('PolicyName'),
    document
  )
  return undefined
}

function inlinePolicy(target: IamUser, name: string): string {
  const document = target.inlinePolicies.get(name)
  if (document === undefined) {
    throw new ServiceError('NoSuchEntity', `The user policy with name ${name} cannot be found.`)
  }
  return document
}

function getUserPolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  const name = params.requiredString('PolicyName')
  return {
    UserName: target.name,
    PolicyName: name,
    PolicyDocument: encodeURIComponent(inlinePolicy(target, name))
  }
}

function deleteUserPolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  const name = params.requiredString('PolicyName')
  inlinePolicy(target, name)
  const remaining = new Map(target.inlinePolicies)
  remaining.delete(name)
  target.inlinePolicies = remaining
  return undefined
}

function listUserPolicies(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  const { items, ...truncation } = page(ctx, params, [...target.inlinePolicies.keys()])
  return { PolicyNames: items, ...truncation }
}

/** AWS managed policies always exist; customer managed ones must be in the caller's account. */
function attachablePolicyName(account: Account, arn: string): string {
  if (arn.startsWith('arn:aws:iam::aws:policy/')) return arn.slice(arn.lastIndexOf('/') + 1)
  const policy = account.iam.policies.get(arn)
  if (!policy) {
    throw new ServiceError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`)
  }
  return policy.name
}

function attachUserPolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const target = user(account, params.requiredString('UserName'))
  const arn = params.requiredString('PolicyArn')
  attachablePolicyName(account, arn)
  if (target.attachedPolicyArns.includes(arn)) return undefined
  if (target.attachedPolicyArns.length >= MAX_POLICIES_PER_USER) {
    throw new ServiceError(
      'LimitExceeded',
      `Cannot exceed quota for PoliciesPerUser: ${MAX_POLICIES_PER_USER}`
    )
  }
  target.attachedPolicyArns = [...target.attachedPolicyArns, arn]
  return undefined
}

function detachUserPolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  const arn = params.requiredString('PolicyArn')
  if (!target.attachedPolicyArns.includes(arn)) {
    throw new ServiceError('NoSuchEntity', `Policy ${arn} was not found.`)
  }
  target.attachedPolicyArns = target.attachedPolicyArns.filter(attached => attached !== arn)
  return undefined
}

function listAttachedUserPolicies(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const target = user(account, params.requiredString('UserName'))
  const attached = target.attachedPolicyArns.map(arn => ({
    PolicyName: attachablePolicyName(account, arn),
    PolicyArn: arn
  }))
  const { items, ...truncation } = page(ctx, params, attached)
  return { AttachedPolicies: items, ...truncation }
}

/**
 * The users part of GetAccountAuthorizationDetails (Filter=User): every user with its groups,
 * inline and attached policies and tags. Other filters return nothing here: the action asks
 * for users only.
 */
function getAccountAuthorizationDetails(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const filter = params.stringList('Filter')
  const users =
    filter.length === 0 || filter.includes('User') ? [...account.iam.users.values()] : []
  const { items, ...truncation } = page(ctx, params, users)
  return {
    UserDetailList: items.map(target => ({
      Path: target.path,
      UserName: target.name,
      UserId: target.id,
      Arn: target.arn,
      CreateDate: target.createDate,
      UserPolicyList: [...target.inlinePolicies].map(([PolicyName, document]) => ({
        PolicyName,
        PolicyDocument: encodeURIComponent(document)
      })),
      GroupList: [...target.groups],
      AttachedManagedPolicies: target.attachedPolicyArns.map(arn => ({
        PolicyName: attachablePolicyName(account, arn),
        PolicyArn: arn
      })),
      PermissionsBoundary: boundaryView(target.permissionsBoundary),
      Tags: target.tags.size > 0 ? tagList(target.tags) : undefined
    })),
    GroupDetailList: [],
    RoleDetailList: [],
    Policies: [],
    ...truncation
  }
}

function attachmentCount(account: Account, arn: string): number {
  let count = 0
  for (const member of account.iam.users.values()) {
    if (member.attachedPolicyArns.includes(arn)) count += 1
  }
  return count
}

function boundaryUsageCount(account: Account, arn: string): number {
  let count = 0
  for (const member of account.iam.users.values())
    if (member.permissionsBoundary === arn) count += 1
  for (const role of account.iam.roles.values()) if (role.permissionsBoundary === arn) count += 1
  return count
}

function putUserPermissionsBoundary(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const target = user(account, params.requiredString('UserName'))
  const arn = params.requiredString('PermissionsBoundary')
  attachablePolicyName(account, arn)
  target.permissionsBoundary = arn
  return undefined
}

function deleteUserPermissionsBoundary(ctx: RequestContext, params: RequestParams): ResponseValue {
  const target = user(callerAccount(ctx), params.requiredString('UserName'))
  target.permissionsBoundary = undefined
  return undefined
}

function createPolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const name = params.requiredString('PolicyName')
  const path = normalizePath(params.string('Path'))
  const document = params.requiredString('PolicyDocument')
  checkPolicyDocument(document)
  const arn = iamArn(account.id, 'policy', path, name)
  if (account.iam.policies.has(arn)) {
    throw new ServiceError(
      'EntityAlreadyExists',
      `A policy called ${name} already exists. Duplicate names are not allowed.`
    )
  }
  const policy: ManagedPolicy = {
    name,
    path,
    id: ctx.state.ids.uniqueId('ANPA'),
    arn,
    document,
    description: params.string('Description'),
    createDate: ctx.now,
    tags: readTags(params)
  }
  account.iam.policies.set(arn, policy)
  return { Policy: policyView(policy, 0, 0) }
}

function getPolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const arn = params.requiredString('PolicyArn')
  const policy = account.iam.policies.get(arn)
  if (!policy) throw new ServiceError('NoSuchEntity', `Policy ${arn} was not found.`)
  return {
    Policy: policyView(policy, attachmentCount(account, arn), boundaryUsageCount(account, arn))
  }
}

function getRole(ctx: RequestContext, params: RequestParams): ResponseValue {
  const name = params.requiredString('RoleName')
  const role = callerAccount(ctx).iam.roles.get(name)
  if (!role) throw new ServiceError('NoSuchEntity', `The role with name ${name} cannot be found.`)
  return { Role: roleView(role) }
}

function createRole(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const name = params.requiredString('RoleName')
  if (account.iam.roles.has(name)) {
    throw new ServiceError('EntityAlreadyExists', `Role with name ${name} already exists.`)
  }
  let trust
  try {
    trust = trustFromDocument(params.requiredString('AssumeRolePolicyDocument'))
  } catch (error) {
    if (error instanceof ServiceError) throw error
    throw new ServiceError('MalformedPolicyDocument', 'This policy contains invalid Json')
  }
  const role = putRole(ctx.state, account, {
    name,
    path: params.string('Path'),
    trust,
    createDate: ctx.now,
    description: params.string('Description'),
    maxSessionDuration: params.integer('MaxSessionDuration'),
    tags: readTags(params)
  })
  return { Role: roleView(role) }
}

// ----- policy simulation ---------------------------------------------------------------------

const invalidInput = (message: string): ServiceError => new ServiceError('InvalidInput', message)

const CONTEXT_KEY_TYPES = new Set(
  ['string', 'numeric', 'boolean', 'ip', 'binary', 'date'].flatMap(type => [type, `${type}List`])
)

/** A policy document from the request, checked as IAM checks one of its kind. */
function inputPolicy(
  document: string,
  kind: 'identity' | 'resource',
  sourceId: string,
  sourceType: SimulatedPolicy['sourceType']
): SimulatedPolicy {
  const problems = policyProblems(document, kind)
  if (problems.length > 0) {
    throw new ServiceError('MalformedPolicyDocument', problems[0] ?? 'Syntax errors in policy.')
  }
  return { name: sourceId, document, sourceId, sourceType }
}

/** The identity policies of a user or role as the simulator names them. */
function entityPolicies(
  account: Account,
  entity: IamUser | IamRole,
  inlineType: 'user' | 'role'
): SimulatedPolicy[] {
  const inline = [...entity.inlinePolicies].map(([name, document]) => ({
    name: `${entity.name}/${name}`,
    document,
    sourceId: name,
    sourceType: inlineType
  }))
  // AWS managed policies are not modelled: their text is unknown, so they grant nothing here.
  const managed = entity.attachedPolicyArns.flatMap(arn => {
    const policy = account.iam.policies.get(arn)
    return policy
      ? [
          {
            name: policy.arn,
            document: policy.document,
            sourceId: policy.name,
            sourceType: 'user-managed' as const
          }
        ]
      : []
  })
  return [...inline, ...managed]
}

/** The policy source: a user, role or group of the caller's account. */
function simulationSource(
  account: Account,
  arn: string
): {
  arn: string
  kind: 'user' | 'role' | 'group'
  policies: SimulatedPolicy[]
  boundary: string | undefined
} {
  const parsed = parseEntityArn(arn)
  if (!parsed) throw invalidInput(`Invalid ARN ${arn} for PolicySourceArn.`)
  const inAccount = parsed.accountId === account.id
  switch (parsed.kind) {
    case 'user': {
      const found = inAccount ? account.iam.users.get(parsed.name) : undefined
      if (!found) throw noSuchUser(parsed.name)
      const policies = entityPolicies(account, found, 'user')
      return { arn: found.arn, kind: 'user', policies, boundary: found.permissionsBoundary }
    }
    case 'role': {
      const found = inAccount ? account.iam.roles.get(parsed.name) : undefined
      if (!found) {
        throw new ServiceError('NoSuchEntity', `The role with name ${parsed.name} cannot be found.`)
      }
      const policies = entityPolicies(account, found, 'role')
      return { arn: found.arn, kind: 'role', policies, boundary: found.permissionsBoundary }
    }
    case 'group': {
      const found = inAccount ? account.iam.groups.get(parsed.name) : undefined
      if (!found) {
        throw new ServiceError(
          'NoSuchEntity',
          `The group with name ${parsed.name} cannot be found.`
        )
      }
      // Groups carry no policies in the emulator.
      return { arn: found.arn, kind: 'group', policies: [], boundary: undefined }
    }
  }
}

function simulationContext(params: RequestParams): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {}
  for (const entry of params.structList('ContextEntries')) {
    const name = entry.requiredString('ContextKeyName')
    const type = entry.string('ContextKeyType') ?? 'string'
    if (!CONTEXT_KEY_TYPES.has(type)) {
      throw validation(
        `1 validation error detected: Value '${type}' at 'contextEntries.member.contextKeyType' failed to satisfy constraint: Member must satisfy enum value set: [${[...CONTEXT_KEY_TYPES].join(', ')}]`
      )
    }
    const values = entry.stringList('ContextKeyValues')
    context[name] = type.endsWith('List') || values.length > 1 ? values : (values[0] ?? '')
  }
  return context
}

/**
 * SimulatePrincipalPolicy: how the source entity's policies (inline and attached; its
 * permissions boundary, or PermissionsBoundaryPolicyInputList; PolicyInputList besides) and an
 * optional resource policy decide each action on each resource, by the evaluator that decides
 * the emulator's own requests. Only the ContextEntries given are in the request context.
 */
function simulatePrincipalPolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const source = simulationSource(account, params.requiredString('PolicySourceArn'))
  const actions = params.stringList('ActionNames')
  if (actions.length === 0) throw queryValidationError('ActionNames')
  const resourceArns = params.stringList('ResourceArns')
  const resourcePolicyText = params.string('ResourcePolicy')
  const callerArnParam = params.string('CallerArn')
  if (callerArnParam !== undefined && parseEntityArn(callerArnParam)?.kind !== 'user') {
    throw invalidInput(`Invalid CallerArn ${callerArnParam}: it must be the ARN of an IAM user.`)
  }
  if (resourcePolicyText !== undefined && callerArnParam === undefined && source.kind !== 'user') {
    throw invalidInput(
      'CallerArn is required when a ResourcePolicy is given and PolicySourceArn is not a user.'
    )
  }
  const principal = callerArnParam ?? source.arn
  const ownerParam = params.string('ResourceOwner')
  let resourceOwner = principal.split(':')[4] ?? account.id
  if (ownerParam !== undefined) {
    const owner = /^(?:arn:aws:iam::)?(\d{12})(?::root)?$/.exec(ownerParam)?.[1]
    if (owner === undefined) throw invalidInput(`Invalid ResourceOwner ${ownerParam}.`)
    resourceOwner = owner
  }
  const boundaryInputs = params.stringList('PermissionsBoundaryPolicyInputList')
  if (boundaryInputs.length > 1) {
    throw invalidInput('PermissionsBoundaryPolicyInputList takes at most one policy.')
  }
  const [boundaryInput] = boundaryInputs
  const results = simulatePolicies({
    principal,
    actions,
    resources: resourceArns.length > 0 ? resourceArns : ['*'],
    resourcesGiven: resourceArns.length > 0,
    defaultResourceAccount: resourceOwner,
    identityPolicies: [
      ...source.policies,
      ...params
        .stringList('PolicyInputList')
        .map((document, i) => inputPolicy(document, 'identity', `PolicyInputList.${i + 1}`, 'none'))
    ],
    permissionsBoundary:
      boundaryInput !== undefined
        ? inputPolicy(boundaryInput, 'identity', 'PermissionsBoundaryPolicyInputList.1', 'none')
        : boundaryPolicy(account, source.boundary),
    resourcePolicy:
      resourcePolicyText === undefined
        ? undefined
        : inputPolicy(resourcePolicyText, 'resource', 'ResourcePolicy', 'resource'),
    context: simulationContext(params)
  })
  const { items, ...truncation } = page(ctx, params, results)
  return { EvaluationResults: items, ...truncation }
}

export const iamService: QueryServiceDefinition = {
  name: 'iam',
  protocol: 'query',
  xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/',
  missingParameter: queryValidationError,
  faultErrors: {
    throttling: () => new ServiceError('Throttling', 'Rate exceeded'),
    internalErrorCode: 'ServiceFailure'
  },
  operations: operations({
    ListUsers: listUsers,
    CreateUser: createUser,
    GetUser: getUser,
    ListUserTags: listUserTags,
    TagUser: tagUser,
    UntagUser: untagUser,
    GetGroup: getGroup,
    ListGroupsForUser: listGroupsForUser,
    ListAccessKeys: listAccessKeys,
    GetAccessKeyLastUsed: getAccessKeyLastUsed,
    CreateAccessKey: createAccessKey,
    UpdateAccessKey: updateAccessKey,
    DeleteAccessKey: deleteAccessKey,
    GenerateCredentialReport: generateCredentialReport,
    GetCredentialReport: getCredentialReport,
    PutUserPolicy: putUserPolicy,
    PutRolePolicy: putRolePolicy,
    GetUserPolicy: getUserPolicy,
    DeleteUserPolicy: deleteUserPolicy,
    ListUserPolicies: listUserPolicies,
    AttachUserPolicy: attachUserPolicy,
    DetachUserPolicy: detachUserPolicy,
    ListAttachedUserPolicies: listAttachedUserPolicies,
    GetAccountAuthorizationDetails: getAccountAuthorizationDetails,
    CreatePolicy: createPolicy,
    GetPolicy: getPolicy,
    GetRole: getRole,
    CreateRole: createRole,
    PutUserPermissionsBoundary: putUserPermissionsBoundary,
    DeleteUserPermissionsBoundary: deleteUserPermissionsBoundary,
    SimulatePrincipalPolicy: simulatePrincipalPolicy
  })
}
