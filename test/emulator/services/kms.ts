import { sign as signRaw, verify as verifyRaw } from 'node:crypto'
import type { AuthorizationCheck } from '../authz/requests.js'
import { ServiceError } from '../protocol/errors.js'
import type { RequestParams, ResponseObject, ResponseValue } from '../protocol/values.js'
import {
  callerAccount,
  operations,
  type JsonServiceDefinition,
  type RequestContext
} from '../service.js'
import type { Account, EmulatorState, KmsKey } from '../state.js'
import { signDigest, verifyDigest } from './ecdsa-p256.js'

/**
 * KMS (JSON 1.1, `TrentService.`): the keys stacks create (`AWS::KMS::Key`), described, and
 * asymmetric ECC_NIST_P256 keys signing and verifying for real. Blobs travel as base64.
 * Every operation is authorized by the key policy (authz/requests.ts): KMS always needs it.
 */

const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
  'SM2DSA',
  'ML_DSA_SHAKE_256'
]
const MESSAGE_TYPES = ['RAW', 'DIGEST', 'EXTERNAL_MU']
const MAX_RAW_MESSAGE = 4096

/** The signing algorithms of each key spec the emulator models. */
export function signingAlgorithms(key: KmsKey): string[] {
  return key.keySpec === 'ECC_NIST_P256' ? ['ECDSA_SHA_256'] : []
}

const validation = (message: string): ServiceError =>
  new ServiceError('ValidationException', message)

const notFound = (message: string): ServiceError => new ServiceError('NotFoundException', message)

/**
 * The key a KeyId names, as KMS resolves it for a caller in `accountId` calling in `region`:
 * a key id, key ARN, alias name (`alias/x`, in the caller's account) or alias ARN. ARNs may name
 * another account. Undefined when it names nothing.
 */
export function resolveKmsKey(
  state: EmulatorState,
  accountId: string,
  region: string,
  keyId: string
): KmsKey | undefined {
  const arn = /^arn:aws:kms:([^:]+):(\d{12}):(key|alias)\/(.+)$/.exec(keyId)
  const account = state.accounts.get(arn?.[2] ?? accountId)
  if (!account || (arn && arn[1] !== region)) return undefined
  if (arn?.[3] === 'alias' || keyId.startsWith('alias/')) {
    const aliasArn = arn ? keyId : `arn:aws:kms:${region}:${account.id}:${keyId}`
    const target = account.kmsAliases.get(aliasArn)
    return target === undefined ? undefined : account.kms.get(target)
  }
  if (arn) return account.kms.get(keyId)
  const key = account.kms.get(`arn:aws:kms:${region}:${account.id}:key/${keyId}`)
  return key
}

/** KMS's NotFoundException for a KeyId that names nothing. */
export function keyNotFound(keyId: string, accountId: string, region: string): ServiceError {
  if (keyId.startsWith('alias/')) {
    return notFound(`Alias arn:aws:kms:${region}:${accountId}:${keyId} is not found.`)
  }
  if (/^arn:aws:kms:[^:]+:\d{12}:alias\//.test(keyId)) {
    return notFound(`Alias ${keyId} is not found.`)
  }
  if (/^arn:aws:kms:[^:]+:\d{12}:key\/./.test(keyId)) {
    return notFound(`Key '${keyId}' does not exist`)
  }
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(keyId)) {
    return notFound(`Key 'arn:aws:kms:${region}:${accountId}:key/${keyId}' does not exist`)
  }
  return notFound(`Invalid keyId '${keyId}'`)
}

/**
 * What using a key asks IAM: the action on the key's ARN, decided by its key policy (always
 * needed: it allows the principal itself, or the account, whose IAM policies then decide) and,
 * for the account's grants and across accounts, by the caller's own policies. The one check
 * both KMS's operations and Secrets Manager (on the caller's behalf) make.
 */
export function keyPolicyCheck(
  key: KmsKey,
  action: string,
  callerAccountId: string,
  context: Readonly<Record<string, string | string[]>> = {}
): AuthorizationCheck {
  return {
    action,
    resource: key.arn,
    resourceAccount: key.accountId,
    context: {
      'kms:CallerAccount': callerAccountId,
      'kms:KeySpec': key.keySpec,
      'kms:KeyUsage': key.keyUsage,
      'kms:KeyOrigin': 'AWS_KMS',
      ...context
    },
    resourcePolicy: { name: `${key.id} key policy`, document: key.policy, origin: key.origin }
  }
}

/** The key of the request's KeyId; NotFoundException when there is none. */
function requestedKey(ctx: RequestContext, params: RequestParams): KmsKey {
  const keyId = params.requiredString('KeyId')
  const account = callerAccount(ctx)
  const key = resolveKmsKey(ctx.state, account.id, ctx.region, keyId)
  if (!key) throw keyNotFound(keyId, account.id, ctx.region)
  return key
}

/** The key, if enabled: cryptographic operations refuse a disabled key. */
function enabledKey(ctx: RequestContext, params: RequestParams): KmsKey {
  const key = requestedKey(ctx, params)
  if (!key.enabled) throw new ServiceError('DisabledException', `${key.arn} is disabled.`)
  return key
}

function requireUsage(key: KmsKey, usage: KmsKey['keyUsage'], operation: string): void {
  if (key.keyUsage !== usage) {
    throw new ServiceError(
      'InvalidKeyUsageException',
      `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`
    )
  }
}

/** A blob member: base64 in JSON 1.1. */
function blob(params: RequestParams, name: string, member: string): Buffer {
  const text = params.requiredString(name)
  const bytes = Buffer.from(text, 'base64')
  if (bytes.length === 0) {
    throw validation(
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length greater than or equal to 1`
    )
  }
  return bytes
}

function enumMember(
  params: RequestParams,
  name: string,
  member: string,
  values: readonly string[],
  fallback?: string
): string {
  const value = params.string(name) ?? fallback ?? params.requiredString(name)
  if (!values.includes(value)) {
    throw validation(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`
    )
  }
  return value
}

interface SigningRequest {
  key: KmsKey
  message: Buffer
  messageType: string
  algorithm: string
}

/** The checks Sign and Verify share, in the order KMS makes them. */
function signingRequest(
  ctx: RequestContext,
  params: RequestParams,
  operation: string
): SigningRequest {
  const key = enabledKey(ctx, params)
  const message = blob(params, 'Message', 'message')
  const messageType = enumMember(params, 'MessageType', 'messageType', MESSAGE_TYPES, 'RAW')
  const algorithm = enumMember(params, 'SigningAlgorithm', 'signingAlgorithm', SIGNING_ALGORITHMS)
  requireUsage(key, 'SIGN_VERIFY', operation)
  if (!signingAlgorithms(key).includes(algorithm)) {
    throw new ServiceError(
      'InvalidKeyUsageException',
      `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`
    )
  }
  if (messageType === 'RAW' && message.length > MAX_RAW_MESSAGE) {
    throw validation(
      `1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RAW_MESSAGE}`
    )
  }
  if (messageType === 'DIGEST' && message.length !== 32) {
    throw validation(`Digest is invalid length for algorithm ${algorithm}.`)
  }
  if (messageType === 'EXTERNAL_MU') {
    throw validation(`Message type ${messageType} is incompatible with key spec ${key.keySpec}.`)
  }
  return { key, message, messageType, algorithm }
}

function keyPairOf(key: KmsKey): NonNullable<KmsKey['keyPair']> {
  if (!key.keyPair) throw new ServiceError('KMSInternalException', `${key.arn} has no key pair.`)
  return key.keyPair
}

function sign(ctx: RequestContext, params: RequestParams): ResponseValue {
  const { key, message, messageType, algorithm } = signingRequest(ctx, params, 'Sign')
  const { privateKey } = keyPairOf(key)
  const signature =
    messageType === 'DIGEST'
      ? signDigest(message, privateKey)
      : signRaw('sha256', message, privateKey)
  return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: algorithm }
}

function verify(ctx: RequestContext, params: RequestParams): ResponseValue {
  const { key, message, messageType, algorithm } = signingRequest(ctx, params, 'Verify')
  const signature = blob(params, 'Signature', 'signature')
  const { publicKey } = keyPairOf(key)
  let valid: boolean
  try {
    valid =
      messageType === 'DIGEST'
        ? verifyDigest(message, signature, publicKey)
        : verifyRaw('sha256', message, publicKey, signature)
  } catch {
    valid = false
  }
  if (!valid) throw new ServiceError('KMSInvalidSignatureException', '')
  return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm }
}

function getPublicKey(ctx: RequestContext, params: RequestParams): ResponseValue {
  const key = enabledKey(ctx, params)
  if (!key.keyPair) {
    throw new ServiceError(
      'UnsupportedOperationException',
      `${key.arn} key usage is ${key.keyUsage} which is not valid for GetPublicKey.`
    )
  }
  return {
    KeyId: key.arn,
    PublicKey: key.keyPair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    SigningAlgorithms: signingAlgorithms(key)
  }
}

function keyMetadata(key: KmsKey, state: EmulatorState): ResponseObject {
  const signing = key.keyUsage === 'SIGN_VERIFY'
  return {
    AWSAccountId: key.accountId,
    KeyId: key.id,
    Arn: key.arn,
    CreationDate: key.creationDate,
    Enabled: key.enabled,
    Description: key.description ?? '',
    KeyUsage: key.keyUsage,
    KeyState: key.enabled ? 'Enabled' : 'Disabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    EncryptionAlgorithms: signing ? undefined : ['SYMMETRIC_DEFAULT'],
    SigningAlgorithms: signing ? signingAlgorithms(key) : undefined,
    MultiRegion: key.multiRegionPrimaryArn !== undefined,
    MultiRegionConfiguration: multiRegionConfiguration(state, key)
  }
}

/** A multi-Region key's primary and replicas, as DescribeKey shows them; undefined: single-region. */
function multiRegionConfiguration(state: EmulatorState, key: KmsKey): ResponseObject | undefined {
  const primaryArn = key.multiRegionPrimaryArn
  if (primaryArn === undefined) return undefined
  const related = [...(state.accounts.get(key.accountId)?.kms.values() ?? [])].filter(
    other => other.id === key.id && other.multiRegionPrimaryArn === primaryArn
  )
  const primary = related.find(other => other.arn === primaryArn)
  return {
    MultiRegionKeyType: key.arn === primaryArn ? 'PRIMARY' : 'REPLICA',
    PrimaryKey: { Arn: primaryArn, Region: primary?.region },
    ReplicaKeys: related
      .filter(other => other.arn !== primaryArn)
      .map(other => ({ Arn: other.arn, Region: other.region }))
  }
}

/**
 * A replica of a multi-Region primary key in `region` (what ReplicateKey makes): the same id and
 * key material, its own key policy (the primary's unless another is given, as `aws kms
 * replicate-key --policy` would set it), created now.
 */
export function replicateKmsKey(
  account: Account,
  primary: KmsKey,
  region: string,
  now: Date,
  policy: string = primary.policy
): KmsKey {
  if (primary.multiRegionPrimaryArn !== primary.arn) {
    throw new ServiceError(
      'UnsupportedOperationException',
      `${primary.arn} is not a multi-Region primary key.`
    )
  }
  const arn = `arn:aws:kms:${region}:${account.id}:key/${primary.id}`
  if (region === primary.region || account.kms.has(arn)) {
    throw new ServiceError('AlreadyExistsException', `Key ${arn} already exists.`)
  }
  const replica: KmsKey = { ...primary, arn, region, policy, creationDate: now }
  account.kms.set(arn, replica)
  return replica
}

function describeKey(ctx: RequestContext, params: RequestParams): ResponseValue {
  return { KeyMetadata: keyMetadata(requestedKey(ctx, params), ctx.state) }
}

export const kmsService: JsonServiceDefinition = {
  name: 'kms',
  protocol: 'json',
  targetPrefix: 'TrentService',
  missingParameter: name => {
    const member = name.charAt(0).toLowerCase() + name.slice(1)
    return validation(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`
    )
  },
  faultErrors: {
    throttling: () => new ServiceError('ThrottlingException', 'Rate exceeded'),
    internalErrorCode: 'KMSInternalException'
  },
  operations: operations({
    Sign: sign,
    Verify: verify,
    GetPublicKey: getPublicKey,
    DescribeKey: describeKey
  })
}
