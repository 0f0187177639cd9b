import { DAY_MS } from '../clock.js'
import { decodeToken, pageOf, pageSize } from '../paging.js'
import { ServiceError } from '../protocol/errors.js'
import type { RequestParams, ResponseObject, ResponseValue } from '../protocol/values.js'
import {
  callerAccount,
  operations,
  type JsonServiceDefinition,
  type RequestContext
} from '../service.js'
import {
  getOrCreate,
  type Account,
  type EmulatorState,
  type Secret,
  type SecretReplica,
  type SecretValueWrite,
  type SecretVersion
} from '../state.js'
import { keyPolicyCheck, resolveKmsKey } from './kms.js'

/**
 * Secrets Manager (JSON 1.1). Secrets live per account and region (the credential scope's);
 * a replica is the same secret listed under its replica region, and only readable there.
 */

const CURRENT = 'AWSCURRENT'
const PREVIOUS = 'AWSPREVIOUS'
const PENDING = 'AWSPENDING'
/** The key a secret without KmsKeyId uses; the emulator does not model (or check) it. */
const AWS_MANAGED_KEY = 'alias/aws/secretsmanager'
const DEFAULT_MAX_RESULTS = 100

const notFound = (): ServiceError =>
  new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.")

const invalidRequest = (message: string): ServiceError =>
  new ServiceError('InvalidRequestException', message)

const invalidParameter = (message: string): ServiceError =>
  new ServiceError('InvalidParameterException', message)

export function secretArn(secret: Secret, region: string): string {
  return `arn:aws:secretsmanager:${region}:${secret.accountId}:secret:${secret.name}-${secret.arnSuffix}`
}

function regionSecrets(account: Account, region: string): Map<string, Secret> {
  return getOrCreate(account.secrets, region, () => new Map<string, Secret>())
}

export interface NewSecret {
  name: string
  region: string
  now: Date
  description?: string | undefined
  kmsKeyId?: string | undefined
  tags?: Map<string, string>
  secretString?: string | undefined
  secretBinary?: string | undefined
  versionId?: string | undefined
}

/** Stores a new secret (and its first version, when it has a value) in its region. */
export function createSecretRecord(
  state: EmulatorState,
  account: Account,
  fields: NewSecret
): Secret {
  const secret: Secret = {
    name: fields.name,
    accountId: account.id,
    primaryRegion: fields.region,
    arnSuffix: state.ids.secretSuffix(),
    description: fields.description,
    kmsKeyId: fields.kmsKeyId,
    tags: fields.tags ?? new Map<string, string>(),
    versions: new Map(),
    resourcePolicy: undefined,
    replicas: new Map(),
    createdDate: fields.now,
    lastChangedDate: fields.now,
    lastAccessedDate: undefined,
    deletedDate: undefined
  }
  if (fields.secretString !== undefined || fields.secretBinary !== undefined) {
    addVersion(
      secret,
      {
        id: fields.versionId ?? state.ids.uuid(),
        secretString: fields.secretString,
        secretBinary: fields.secretBinary,
        stages: new Set(),
        createdDate: fields.now,
        encryptedWith: [keyName(secret.kmsKeyId)]
      },
      [CURRENT]
    )
  }
  regionSecrets(account, fields.region).set(secret.name, secret)
  return secret
}

/** How a version records the key it was encrypted with (an empty KmsKeyId is the AWS key). */
function keyName(kmsKeyId: string | undefined): string {
  return kmsKeyId === undefined || kmsKeyId === '' ? AWS_MANAGED_KEY : kmsKeyId
}

/** Logs a value written through the API, and whether the secret's policy was on it already. */
function recordValueWrite(
  ctx: RequestContext,
  secret: Secret,
  operation: SecretValueWrite['operation'],
  versionId: string
): void {
  ctx.state.secretValueWrites.push({
    time: ctx.now.toISOString(),
    account: secret.accountId,
    region: secret.primaryRegion,
    name: secret.name,
    operation,
    versionId,
    hadResourcePolicy: secret.resourcePolicy !== undefined
  })
}

/** Adds a version and moves its stages onto it; AWSCURRENT's old holder becomes AWSPREVIOUS. */
function addVersion(secret: Secret, version: SecretVersion, stages: string[]): void {
  for (const stage of stages) {
    for (const other of secret.versions.values()) {
      if (!other.stages.has(stage)) continue
      other.stages.delete(stage)
      if (stage === CURRENT && !stages.includes(PREVIOUS)) {
        for (const holder of secret.versions.values()) holder.stages.delete(PREVIOUS)
        other.stages.add(PREVIOUS)
      }
    }
    version.stages.add(stage)
  }
  secret.versions.set(version.id, version)
}

/** Lists the secret under another region; a different secret already there blocks it. */
export function addReplica(
  account: Account,
  secret: Secret,
  region: string,
  kmsKeyId: string | undefined,
  overwrite: boolean,
  keyProblem?: string
): SecretReplica {
  if (region === secret.primaryRegion) throw invalidParameter('Invalid replica region.')
  const secrets = regionSecrets(account, region)
  const occupant = secrets.get(secret.name)
  const blocked = occupant !== undefined && occupant !== secret && !overwrite
  const failure = blocked
    ? 'Replication failed: Secret with this name already exists in this region.'
    : keyProblem
  const replica: SecretReplica = {
    region,
    kmsKeyId,
    status: failure === undefined ? 'InSync' : 'Failed',
    statusMessage: failure ?? 'Replication succeeded'
  }
  if (failure === undefined) secrets.set(secret.name, secret)
  secret.replicas.set(region, replica)
  return replica
}

/**
 * A secret by name (in the caller's account) or by full or partial ARN (in the account the ARN
 * names: another account's secret is reachable when its resource policy allows), in `region`.
 */
export function lookupSecret(
  state: EmulatorState,
  callerAccount: Account,
  region: string,
  secretId: string
): Secret | undefined {
  if (!secretId.startsWith('arn:')) return callerAccount.secrets.get(region)?.get(secretId)
  const match = /^arn:aws:secretsmanager:([^:]+):(\d{12}):secret:(.+)$/.exec(secretId)
  if (!match || match[1] !== region) return undefined
  const secrets = state.accounts.get(match[2] ?? '')?.secrets.get(region)
  if (!secrets) return undefined
  const rest = match[3] ?? ''
  const withSuffix = /^(.+)-([A-Za-z0-9]{6})$/.exec(rest)
  if (withSuffix) {
    const candidate = secrets.get(withSuffix[1] ?? '')
    if (candidate && candidate.arnSuffix === withSuffix[2]) return candidate
  }
  return secrets.get(rest)
}

/** A secret by name or ARN, as the caller reaches it. */
function findSecret(ctx: RequestContext, secretId: string): Secret {
  const secret = lookupSecret(ctx.state, callerAccount(ctx), ctx.region, secretId)
  if (!secret) throw notFound()
  return secret
}

function authorizeOrKmsDenied(
  ctx: RequestContext,
  check: Parameters<RequestContext['authorize']>[0]
): void {
  try {
    ctx.authorize(check)
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'AccessDeniedException') {
      throw new ServiceError('AccessDeniedException', 'Access to KMS is not allowed')
    }
    throw error
  }
}

/**
 * Secrets Manager encrypts and decrypts with the secret's KMS key on the caller's behalf, so the
 * caller needs that permission too, through Secrets Manager (kms:ViaService). Keys the emulator
 * does not model (an ARN no stack created, the AWS managed key) are not checked.
 */
function authorizeKeyUse(
  ctx: RequestContext,
  secret: Secret,
  use: 'write' | 'read' | 're-encrypt',
  kmsKeyId: string | undefined = secret.kmsKeyId
): void {
  if (kmsKeyId === undefined || kmsKeyId === '') return
  const key = resolveKmsKey(ctx.state, secret.accountId, secret.primaryRegion, kmsKeyId)
  if (!key) return
  // Secrets Manager's documented needs: a new value takes GenerateDataKey and Decrypt, reading
  // takes Decrypt, re-encrypting an existing version with a new key takes Encrypt.
  const actions =
    use === 'write'
      ? ['kms:GenerateDataKey', 'kms:Decrypt']
      : use === 'read'
        ? ['kms:Decrypt']
        : ['kms:Encrypt']
  // Secrets Manager reports a refusal by KMS in its own words, without the details.
  for (const action of actions)
    authorizeOrKmsDenied(
      ctx,
      keyPolicyCheck(key, action, callerAccount(ctx).id, {
        'kms:ViaService': `secretsmanager.${ctx.region}.amazonaws.com`,
        'kms:EncryptionContext:SecretARN': secretArn(secret, secret.primaryRegion)
      })
    )
}

/** Whether the caller may use the key so; a refusal is an answer here, not an error. */
function mayUseKey(
  ctx: RequestContext,
  secret: Secret,
  use: 'read' | 're-encrypt',
  kmsKeyId: string
): boolean {
  try {
    authorizeKeyUse(ctx, secret, use, kmsKeyId)
    return true
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'AccessDeniedException') return false
    throw error
  }
}

/**
 * Reading a version takes Decrypt on one of the keys it is encrypted with (after a key change,
 * the previous key or the new one); the refusal named is that of its first key.
 */
function authorizeRead(
  ctx: RequestContext,
  secret: Secret,
  version: SecretVersion | undefined
): void {
  if (ctx.region !== secret.primaryRegion) {
    // A replica is encrypted with its own region's key.
    const kmsKeyId = secret.replicas.get(ctx.region)?.kmsKeyId
    if (kmsKeyId === undefined || kmsKeyId === '' || keyName(kmsKeyId) === AWS_MANAGED_KEY) return
    const key = resolveKmsKey(ctx.state, secret.accountId, ctx.region, kmsKeyId)
    if (!key) return
    authorizeOrKmsDenied(
      ctx,
      keyPolicyCheck(key, 'kms:Decrypt', callerAccount(ctx).id, {
        'kms:ViaService': `secretsmanager.${ctx.region}.amazonaws.com`,
        'kms:EncryptionContext:SecretARN': secretArn(secret, ctx.region)
      })
    )
    return
  }
  const keys = version?.encryptedWith ?? [keyName(secret.kmsKeyId)]
  const [first] = keys
  if (first === undefined) return
  if (keys.some(key => mayUseKey(ctx, secret, 'read', key))) return
  authorizeKeyUse(ctx, secret, 'read', first)
}

function liveSecret(ctx: RequestContext, params: RequestParams): Secret {
  const secret = findSecret(ctx, params.requiredString('SecretId'))
  if (secret.deletedDate) {
    throw invalidRequest(
      "You can't perform this operation on the secret because it was marked for deletion."
    )
  }
  return secret
}

/** Changes are made in the primary region only. */
function writableSecret(ctx: RequestContext, params: RequestParams): Secret {
  const secret = liveSecret(ctx, params)
  if (ctx.region !== secret.primaryRegion) {
    throw invalidRequest(
      "Operation not permitted on a replica secret. Call must be made in primary secret's region."
    )
  }
  return secret
}

/** ClientRequestToken, the new version's id: 32 to 64 characters. */
function versionToken(params: RequestParams): string | undefined {
  const token = params.string('ClientRequestToken')
  if (token === undefined) return undefined
  const bound =
    token.length < 32
      ? 'greater than or equal to 32'
      : token.length > 64
        ? 'less than or equal to 64'
        : undefined
  if (bound) {
    throw invalidParameter(
      `1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length ${bound}`
    )
  }
  return token
}

/** Same token, different value: a version cannot change. */
const versionExists = (): ServiceError =>
  new ServiceError(
    'ResourceExistsException',
    "You can't modify an existing version, you can only create a new version."
  )

function readTags(params: RequestParams): Map<string, string> {
  return new Map(
    params.structList('Tags').map(t => [t.requiredString('Key'), t.string('Value') ?? ''])
  )
}

function tagList(tags: Map<string, string>): ResponseObject[] {
  return [...tags].map(([Key, Value]) => ({ Key, Value }))
}

function replicationStatus(secret: Secret): ResponseObject[] | undefined {
  if (secret.replicas.size === 0) return undefined
  return [...secret.replicas.values()].map(replica => ({
    Region: replica.region,
    KmsKeyId: replica.kmsKeyId,
    Status: replica.status,
    StatusMessage: replica.statusMessage
  }))
}

function addReplicas(ctx: RequestContext, secret: Secret, params: RequestParams): void {
  const overwrite = params.boolean('ForceOverwriteReplicaSecret') ?? false
  for (const replica of params.structList('AddReplicaRegions')) {
    const region = replica.requiredString('Region')
    const kmsKeyId = replica.string('KmsKeyId')
    addReplica(
      callerAccount(ctx),
      secret,
      region,
      kmsKeyId,
      overwrite,
      replicaKeyProblem(ctx, secret, region, kmsKeyId)
    )
  }
}

/**
 * Why a replica in `region` cannot be encrypted with `kmsKeyId`, as AWS reports it: the call
 * succeeds and the replica is Failed. KMS keys are regional: the key must resolve in the
 * replica's region (a key ARN must name that region; a bare id or alias is looked up there), and
 * the caller needs kms:GenerateDataKey and kms:Encrypt on it through Secrets Manager there.
 */
function replicaKeyProblem(
  ctx: RequestContext,
  secret: Secret,
  region: string,
  kmsKeyId: string | undefined
): string | undefined {
  if (kmsKeyId === undefined || kmsKeyId === '') return undefined
  if (/^(arn:aws:kms:[^:]+:\d{12}:)?alias\/aws\/secretsmanager$/.test(kmsKeyId)) return undefined
  const key = resolveKmsKey(ctx.state, secret.accountId, region, kmsKeyId)
  if (!key) return `Replication failed: KMS key ${kmsKeyId} is not found in ${region}.`
  if (!key.enabled) return `Replication failed: KMS key ${key.arn} is disabled.`
  try {
    for (const action of ['kms:GenerateDataKey', 'kms:Encrypt']) {
      ctx.authorize(
        keyPolicyCheck(key, action, callerAccount(ctx).id, {
          'kms:ViaService': `secretsmanager.${region}.amazonaws.com`,
          'kms:EncryptionContext:SecretARN': secretArn(secret, region)
        })
      )
    }
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'AccessDeniedException') {
      return 'Replication failed: Access to KMS is not allowed.'
    }
    throw error
  }
  return undefined
}

function describeView(secret: Secret, region: string): ResponseObject {
  // A secret created without a value has no versions, and no map of them.
  let versionIdsToStages: Record<string, string[]> | undefined
  for (const version of secret.versions.values()) {
    if (version.stages.size === 0) continue
    versionIdsToStages ??= {}
    versionIdsToStages[version.id] = [...version.stages]
  }
  return {
    ARN: secretArn(secret, region),
    Name: secret.name,
    Description: secret.description,
    KmsKeyId:
      region === secret.primaryRegion ? secret.kmsKeyId : secret.replicas.get(region)?.kmsKeyId,
    RotationEnabled: false,
    LastChangedDate: secret.lastChangedDate,
    LastAccessedDate: secret.lastAccessedDate,
    DeletedDate: secret.deletedDate,
    Tags: secret.tags.size > 0 ? tagList(secret.tags) : undefined,
    VersionIdsToStages: versionIdsToStages,
    CreatedDate: secret.createdDate,
    PrimaryRegion: secret.primaryRegion,
    ReplicationStatus: replicationStatus(secret)
  }
}

/**
 * A SecretListEntry: DescribeSecret's fields, but the version map is SecretVersionsToStages and
 * there is no ReplicationStatus, as ListSecrets answers.
 */
function listEntryView(secret: Secret, region: string): ResponseObject {
  const {
    VersionIdsToStages: versions,
    ReplicationStatus: _replication,
    ...entry
  } = describeView(secret, region)
  return { ...entry, SecretVersionsToStages: versions }
}

function createSecret(ctx: RequestContext, params: RequestParams): ResponseValue {
  const account = callerAccount(ctx)
  const name = params.requiredString('Name')
  const token = versionToken(params)
  const secretString = params.string('SecretString')
  const secretBinary = params.string('SecretBinary')
  const existing = account.secrets.get(ctx.region)?.get(name)
  if (existing?.deletedDate) {
    throw invalidRequest(
      "You can't create this secret because a secret with this name is already scheduled for deletion."
    )
  }
  // A retry (its first attempt created the secret, with this token's version) is ignored.
  const retried = token === undefined ? undefined : existing?.versions.get(token)
  if (existing && retried) {
    if (retried.secretString !== secretString || retried.secretBinary !== secretBinary) {
      throw versionExists()
    }
    return {
      ARN: secretArn(existing, ctx.region),
      Name: existing.name,
      VersionId: retried.id,
      ReplicationStatus: replicationStatus(existing)
    }
  }
  if (existing) {
    throw new ServiceError(
      'ResourceExistsException',
      `The operation failed because the secret ${name} already exists.`
    )
  }
  const secret = createSecretRecord(ctx.state, account, {
    name,
    region: ctx.region,
    now: ctx.now,
    description: params.string('Description'),
    kmsKeyId: params.string('KmsKeyId'),
    tags: readTags(params),
    secretString,
    secretBinary,
    versionId: token
  })
  const [versionId] = secret.versions.keys()
  if (versionId !== undefined) {
    try {
      authorizeKeyUse(ctx, secret, 'write')
    } catch (error) {
      account.secrets.get(ctx.region)?.delete(secret.name)
      throw error
    }
    recordValueWrite(ctx, secret, 'CreateSecret', versionId)
  }
  addReplicas(ctx, secret, params)
  return {
    ARN: secretArn(secret, ctx.region),
    Name: secret.name,
    VersionId: [...secret.versions.keys()][0],
    ReplicationStatus: replicationStatus(secret)
  }
}

function describeSecret(ctx: RequestContext, params: RequestParams): ResponseValue {
  return describeView(findSecret(ctx, params.requiredString('SecretId')), ctx.region)
}

function putSecretValue(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = writableSecret(ctx, params)
  const versionId = versionToken(params) ?? ctx.state.ids.uuid()
  const secretString = params.string('SecretString')
  const secretBinary = params.string('SecretBinary')
  if (secretString === undefined && secretBinary === undefined) {
    throw invalidParameter('You must provide either SecretString or SecretBinary.')
  }
  authorizeKeyUse(ctx, secret, 'write')
  const existing = secret.versions.get(versionId)
  if (existing) {
    // Same token, same value: a retry. Same token, new value: not allowed.
    if (existing.secretString !== secretString || existing.secretBinary !== secretBinary) {
      throw versionExists()
    }
  } else {
    const requested = params.stringList('VersionStages')
    addVersion(
      secret,
      {
        id: versionId,
        secretString,
        secretBinary,
        stages: new Set(),
        createdDate: ctx.now,
        encryptedWith: [keyName(secret.kmsKeyId)]
      },
      requested.length > 0 ? requested : [CURRENT]
    )
    secret.lastChangedDate = ctx.now
    recordValueWrite(ctx, secret, 'PutSecretValue', versionId)
  }
  const version = secret.versions.get(versionId)
  return {
    ARN: secretArn(secret, ctx.region),
    Name: secret.name,
    VersionId: versionId,
    VersionStages: version ? [...version.stages] : []
  }
}

/**
 * UpdateSecret: Description, KmsKeyId and a new value (a new AWSCURRENT version, as
 * PutSecretValue makes). A new key encrypts new values from now on; the AWSCURRENT, AWSPENDING
 * and AWSPREVIOUS versions are re-encrypted with it too, where the caller may decrypt them and
 * use the new key (kms:Encrypt), and stay readable with their previous key, as AWS does.
 */
function updateSecret(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = writableSecret(ctx, params)
  const secretString = params.string('SecretString')
  const secretBinary = params.string('SecretBinary')
  if (secretString !== undefined && secretBinary !== undefined) {
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret."
    )
  }
  const hasValue = secretString !== undefined || secretBinary !== undefined
  const token = versionToken(params)
  const answer = (versionId: string | undefined): ResponseValue => ({
    ARN: secretArn(secret, ctx.region),
    Name: secret.name,
    VersionId: versionId
  })
  const retried = hasValue && token !== undefined ? secret.versions.get(token) : undefined
  if (retried) {
    // Same token, same value: a retry, ignored. Same token, new value: not allowed.
    if (retried.secretString !== secretString || retried.secretBinary !== secretBinary) {
      throw versionExists()
    }
    return answer(retried.id)
  }
  const keyParam = params.string('KmsKeyId')
  // The AWS managed key is the default: AWS then omits KmsKeyId from the secret's description.
  const newKey =
    keyParam === undefined
      ? secret.kmsKeyId
      : keyParam === '' || keyName(keyParam) === AWS_MANAGED_KEY
        ? undefined
        : keyParam
  const keyChanged = keyName(newKey) !== keyName(secret.kmsKeyId)
  // Everything is checked before anything changes.
  if (hasValue) authorizeKeyUse(ctx, secret, 'write', newKey)
  const reEncrypted = keyChanged
    ? [...secret.versions.values()].filter(
        version =>
          [CURRENT, PENDING, PREVIOUS].some(stage => version.stages.has(stage)) &&
          version.encryptedWith.some(key => mayUseKey(ctx, secret, 'read', key)) &&
          mayUseKey(ctx, secret, 're-encrypt', keyName(newKey))
      )
    : []
  const description = params.string('Description')
  if (description !== undefined) secret.description = description
  secret.kmsKeyId = newKey
  for (const version of reEncrypted) {
    if (!version.encryptedWith.includes(keyName(newKey))) {
      version.encryptedWith = [...version.encryptedWith, keyName(newKey)]
    }
  }
  secret.lastChangedDate = ctx.now
  if (!hasValue) return answer(undefined)
  const versionId = token ?? ctx.state.ids.uuid()
  addVersion(
    secret,
    {
      id: versionId,
      secretString,
      secretBinary,
      stages: new Set(),
      createdDate: ctx.now,
      encryptedWith: [keyName(newKey)]
    },
    [CURRENT]
  )
  recordValueWrite(ctx, secret, 'UpdateSecret', versionId)
  return answer(versionId)
}

function getSecretValue(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = liveSecret(ctx, params)
  const versionId = params.string('VersionId')
  const stage = params.string('VersionStage') ?? (versionId === undefined ? CURRENT : undefined)
  const version = [...secret.versions.values()].find(
    candidate =>
      (versionId === undefined || candidate.id === versionId) &&
      (stage === undefined || candidate.stages.has(stage))
  )
  authorizeRead(ctx, secret, version)
  if (!version) {
    throw new ServiceError(
      'ResourceNotFoundException',
      versionId !== undefined
        ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`
        : `Secrets Manager can't find the specified secret value for staging label: ${stage ?? CURRENT}`
    )
  }
  // AWS records access by day only.
  secret.lastAccessedDate = new Date(Math.floor(ctx.now.getTime() / DAY_MS) * DAY_MS)
  return {
    ARN: secretArn(secret, ctx.region),
    Name: secret.name,
    VersionId: version.id,
    SecretString: version.secretString,
    SecretBinary: version.secretBinary,
    VersionStages: [...version.stages],
    CreatedDate: version.createdDate
  }
}

function listSecretVersionIds(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = findSecret(ctx, params.requiredString('SecretId'))
  const includeDeprecated = params.boolean('IncludeDeprecated') ?? false
  const versions = [...secret.versions.values()].filter(v => includeDeprecated || v.stages.size > 0)
  const token = decodeToken(
    params.string('NextToken'),
    () => new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.')
  )
  const size = pageSize(
    params.integer('MaxResults'),
    DEFAULT_MAX_RESULTS,
    ctx.state.config.pageSizes.secretsmanager
  )
  const { items, next } = pageOf(versions, token?.offset ?? 0, size)
  return {
    ARN: secretArn(secret, ctx.region),
    Name: secret.name,
    Versions: items.map(v => ({
      VersionId: v.id,
      VersionStages: [...v.stages],
      CreatedDate: v.createdDate
    })),
    NextToken: next
  }
}

function listSecrets(ctx: RequestContext, params: RequestParams): ResponseValue {
  const all = [...(callerAccount(ctx).secrets.get(ctx.region)?.values() ?? [])]
  const includeDeleted = params.boolean('IncludePlannedDeletion') ?? false
  const namePrefixes = params
    .structList('Filters')
    .filter(filter => filter.string('Key') === 'name')
    .flatMap(filter => filter.stringList('Values'))
  const matching = all.filter(
    secret =>
      (includeDeleted || !secret.deletedDate) &&
      (namePrefixes.length === 0 || namePrefixes.some(prefix => secret.name.startsWith(prefix)))
  )
  const token = decodeToken(
    params.string('NextToken'),
    () => new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.')
  )
  const size = pageSize(
    params.integer('MaxResults'),
    DEFAULT_MAX_RESULTS,
    ctx.state.config.pageSizes.secretsmanager
  )
  const { items, next } = pageOf(matching, token?.offset ?? 0, size)
  return { SecretList: items.map(secret => listEntryView(secret, ctx.region)), NextToken: next }
}

function isPublicPolicy(policy: unknown): boolean {
  if (typeof policy !== 'object' || policy === null) return false
  const statements: unknown = (policy as Record<string, unknown>).Statement
  const list: unknown[] = Array.isArray(statements) ? statements : [statements]
  return list.some(statement => {
    if (typeof statement !== 'object' || statement === null) return false
    const { Effect, Principal } = statement as Record<string, unknown>
    if (Effect !== 'Allow') return false
    if (Principal === '*') return true
    if (typeof Principal !== 'object' || Principal === null) return false
    const aws: unknown = (Principal as Record<string, unknown>).AWS
    return aws === '*' || (Array.isArray(aws) && aws.includes('*'))
  })
}

function putResourcePolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = writableSecret(ctx, params)
  const document = params.requiredString('ResourcePolicy')
  let policy: unknown
  try {
    policy = JSON.parse(document)
  } catch {
    throw new ServiceError(
      'MalformedPolicyDocumentException',
      'This resource policy contains a syntax error.'
    )
  }
  if (params.boolean('BlockPublicPolicy') === true && isPublicPolicy(policy)) {
    throw new ServiceError(
      'PublicPolicyException',
      'The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.'
    )
  }
  secret.resourcePolicy = document
  return { ARN: secretArn(secret, ctx.region), Name: secret.name }
}

function getResourcePolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = findSecret(ctx, params.requiredString('SecretId'))
  return {
    ARN: secretArn(secret, ctx.region),
    Name: secret.name,
    ResourcePolicy: secret.resourcePolicy
  }
}

function deleteResourcePolicy(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = writableSecret(ctx, params)
  secret.resourcePolicy = undefined
  return { ARN: secretArn(secret, ctx.region), Name: secret.name }
}

function replicateSecretToRegions(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = writableSecret(ctx, params)
  addReplicas(ctx, secret, params)
  return { ARN: secretArn(secret, ctx.region), ReplicationStatus: replicationStatus(secret) ?? [] }
}

function removeRegionsFromReplication(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = writableSecret(ctx, params)
  const account = callerAccount(ctx)
  for (const region of params.stringList('RemoveReplicaRegions')) {
    secret.replicas.delete(region)
    const secrets = account.secrets.get(region)
    if (secrets?.get(secret.name) === secret) secrets.delete(secret.name)
  }
  return { ARN: secretArn(secret, ctx.region), ReplicationStatus: replicationStatus(secret) ?? [] }
}

function tagResource(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = writableSecret(ctx, params)
  for (const [key, value] of readTags(params)) secret.tags.set(key, value)
  return {}
}

function untagResource(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = writableSecret(ctx, params)
  for (const key of params.stringList('TagKeys')) secret.tags.delete(key)
  return {}
}

function deleteSecret(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = findSecret(ctx, params.requiredString('SecretId'))
  if (ctx.region !== secret.primaryRegion) {
    throw invalidRequest(
      "Operation not permitted on a replica secret. Call must be made in primary secret's region."
    )
  }
  if (secret.replicas.size > 0) {
    throw invalidRequest(
      `You can't delete secret ${secret.name} that still has replica regions [${[...secret.replicas.keys()].join(', ')}]`
    )
  }
  const force = params.boolean('ForceDeleteWithoutRecovery') ?? false
  const window = params.integer('RecoveryWindowInDays') ?? 30
  if (force && params.integer('RecoveryWindowInDays') !== undefined) {
    throw invalidParameter(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
    )
  }
  if (!force && (window < 7 || window > 30)) {
    throw invalidParameter(
      'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).'
    )
  }
  const arn = secretArn(secret, ctx.region)
  if (force) {
    callerAccount(ctx).secrets.get(ctx.region)?.delete(secret.name)
    return { ARN: arn, Name: secret.name, DeletionDate: ctx.now }
  }
  if (secret.deletedDate) {
    throw invalidRequest(
      "You can't perform this operation on the secret because it was marked for deletion."
    )
  }
  secret.deletedDate = ctx.now
  return {
    ARN: arn,
    Name: secret.name,
    DeletionDate: new Date(ctx.now.getTime() + window * DAY_MS)
  }
}

function restoreSecret(ctx: RequestContext, params: RequestParams): ResponseValue {
  const secret = findSecret(ctx, params.requiredString('SecretId'))
  secret.deletedDate = undefined
  return { ARN: secretArn(secret, ctx.region), Name: secret.name }
}

export const secretsManagerService: JsonServiceDefinition = {
  name: 'secretsmanager',
  protocol: 'json',
  targetPrefix: 'secretsmanager',
  missingParameter: name =>
    invalidParameter(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`
    ),
  faultErrors: {
    throttling: () => new ServiceError('ThrottlingException', 'Rate exceeded'),
    internalErrorCode: 'InternalServiceError'
  },
  operations: operations({
    CreateSecret: createSecret,
    DescribeSecret: describeSecret,
    PutSecretValue: putSecretValue,
    UpdateSecret: updateSecret,
    GetSecretValue: getSecretValue,
    ListSecretVersionIds: listSecretVersionIds,
    ListSecrets: listSecrets,
    PutResourcePolicy: putResourcePolicy,
    GetResourcePolicy: getResourcePolicy,
    DeleteResourcePolicy: deleteResourcePolicy,
    ReplicateSecretToRegions: replicateSecretToRegions,
    RemoveRegionsFromReplication: removeRegionsFromReplication,
    TagResource: tagResource,
    UntagResource: untagResource,
    DeleteSecret: deleteSecret,
    RestoreSecret: restoreSecret
  })
}
