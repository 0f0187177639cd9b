import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  type SecretsManagerClient
} from '@aws-sdk/client-secrets-manager'
import { secretMarkerMessage, type StateSigner, type StateVerifier } from '../state/signing.js'
import { awsErrorCode } from '../util/errors.js'

/** Tag on each secret naming the access key it holds, for people; the tool trusts the version id. */
export const SECRET_KEY_ID_TAG = 'iam-key-rotation:access-key-id'
/** The tool's signed statement that it created this secret for this user (src/state/signing.ts). */
export const SECRET_MARKER_TAG = 'iam-key-rotation:marker'

const VERSION_ID_PREFIX = 'iam-key-rotation-'

/**
 * Each value is written as the version `iam-key-rotation-<access key id>`: the key id is
 * recorded by the same call that stores the key, so no crash can separate the two.
 */
export function versionIdFor(accessKeyId: string): string {
  return `${VERSION_ID_PREFIX}${accessKeyId}`
}

function keyIdOfVersion(versionId: string): string | undefined {
  const id = versionId.startsWith(VERSION_ID_PREFIX)
    ? versionId.slice(VERSION_ID_PREFIX.length)
    : ''
  return /^[A-Z0-9]{16,128}$/.test(id) ? id : undefined
}

export interface StoredKey {
  readonly accountId: string
  readonly userName: string
  readonly userArn: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly previousAccessKeyId: string
  readonly createdAt: Date
}

export interface SecretStoreOptions {
  readonly namePrefix: string
  readonly kmsKeyId?: string
  readonly replicaRegions: readonly string[]
  /** Secrets Manager client for the account that holds a member account's secrets. */
  readonly clientFor: (memberAccountId: string) => SecretsManagerClient
  readonly verifier: StateVerifier
  /** Enforce mode only: signs the marker of each secret the tool creates. */
  readonly signer?: StateSigner
}

/**
 * Where new keys go: one secret per user, `prefix + ACCOUNT_ID/USER`, in the user's account or in
 * the central account. A new key becomes AWSCURRENT; the one before stays as AWSPREVIOUS.
 */
export class SecretStore {
  constructor(private readonly options: SecretStoreOptions) {}

  secretName(accountId: string, userName: string): string {
    return `${this.options.namePrefix}${accountId}/${userName}`
  }

  /** Writes the key. Returns the secret's ARN. Throws when the value could not be stored. */
  async storeKey(key: StoredKey): Promise<string> {
    const client = this.options.clientFor(key.accountId)
    const name = this.secretName(key.accountId, key.userName)
    const value = JSON.stringify({
      AccessKeyId: key.accessKeyId,
      SecretAccessKey: key.secretAccessKey,
      UserName: key.userName,
      CreatedAt: key.createdAt.toISOString(),
      PreviousAccessKeyId: key.previousAccessKeyId
    })
    const versionId = versionIdFor(key.accessKeyId)
    try {
      const put = await client.send(
        new PutSecretValueCommand({
          SecretId: name,
          SecretString: value,
          ClientRequestToken: versionId
        })
      )
      return put.ARN ?? name
    } catch (error) {
      if (awsErrorCode(error) !== 'ResourceNotFoundException') throw error
    }
    if (!this.options.signer)
      throw new Error('creating a secret needs the state signer (enforce mode)')
    const marker = await this.options.signer.sign(
      secretMarkerMessage(key.accountId, key.userName, name)
    )
    const created = await client.send(
      new CreateSecretCommand({
        Name: name,
        Description: `Access key of IAM user ${key.userArn}, rotated by iam-key-rotation.`,
        SecretString: value,
        ClientRequestToken: versionId,
        ...(this.options.kmsKeyId ? { KmsKeyId: this.options.kmsKeyId } : {}),
        ...(this.options.replicaRegions.length > 0
          ? {
              AddReplicaRegions: this.options.replicaRegions.map(region => ({
                Region: region,
                ...(this.options.kmsKeyId ? { KmsKeyId: this.options.kmsKeyId } : {})
              }))
            }
          : {}),
        Tags: [
          { Key: SECRET_KEY_ID_TAG, Value: key.accessKeyId },
          { Key: SECRET_MARKER_TAG, Value: marker }
        ]
      })
    )
    return created.ARN ?? name
  }

  /**
   * After the key is stored: tag the secret with the key id, and allow only the user to read it
   * (public policies blocked). A failure here leaves a working, stored key: it is reported.
   */
  async protect(
    key: Pick<StoredKey, 'accountId' | 'userArn' | 'accessKeyId'>,
    secretArn: string
  ): Promise<void> {
    const client = this.options.clientFor(key.accountId)
    await client.send(
      new TagResourceCommand({
        SecretId: secretArn,
        Tags: [{ Key: SECRET_KEY_ID_TAG, Value: key.accessKeyId }]
      })
    )
    await client.send(
      new PutResourcePolicyCommand({
        SecretId: secretArn,
        BlockPublicPolicy: true,
        ResourcePolicy: JSON.stringify(readOnlyByUserPolicy(key.userArn))
      })
    )
  }

  /** `protect` for a secret found by its name (a rotation recognised after a crash). */
  async protectStored(
    accountId: string,
    userName: string,
    userArn: string,
    accessKeyId: string
  ): Promise<void> {
    await this.protect({ accountId, userArn, accessKeyId }, this.secretName(accountId, userName))
  }

  /**
   * What an earlier version's secret says (read only to migrate an unsigned rotation record):
   * the key id its tag names and when its current version was written. Undefined without one.
   */
  async legacyStoredKey(
    accountId: string,
    userName: string
  ): Promise<{ accessKeyId: string; storedAt: Date } | undefined> {
    const client = this.options.clientFor(accountId)
    const name = this.secretName(accountId, userName)
    try {
      const secret = await client.send(new DescribeSecretCommand({ SecretId: name }))
      const accessKeyId = secret.Tags?.find(tag => tag.Key === SECRET_KEY_ID_TAG)?.Value
      if (!accessKeyId) return undefined
      const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }))
      const current = versions.Versions?.find(v => v.VersionStages?.includes('AWSCURRENT'))
      return current?.CreatedDate ? { accessKeyId, storedAt: current.CreatedDate } : undefined
    } catch (error) {
      if (awsErrorCode(error) === 'ResourceNotFoundException') return undefined
      throw error
    }
  }

  /**
   * The key id of the current version of the user's secret and when that version was written,
   * only when the secret carries this tool's verified marker: anyone who can create a secret
   * could otherwise name any key. Undefined when there is no secret; throws when it cannot be
   * read or is not the tool's.
   */
  async storedKey(
    accountId: string,
    userName: string
  ): Promise<{ accessKeyId: string; storedAt: Date } | undefined> {
    const name = this.secretName(accountId, userName)
    let secret
    try {
      secret = await this.options
        .clientFor(accountId)
        .send(new DescribeSecretCommand({ SecretId: name }))
    } catch (error) {
      if (awsErrorCode(error) === 'ResourceNotFoundException') return undefined
      throw error
    }
    const marker = secret.Tags?.find(tag => tag.Key === SECRET_MARKER_TAG)?.Value
    const problem = this.options.verifier.check(
      secretMarkerMessage(accountId, userName, name),
      marker
    )
    if (problem !== undefined) {
      throw new Error(
        `secret ${name} is not known to be this tool's: its marker failed verification (${problem})`
      )
    }
    // Anyone who may PutSecretValue can choose a version id: it counts only together with when
    // it was written, which the scan compares with the key's creation.
    const versions = await this.options
      .clientFor(accountId)
      .send(new ListSecretVersionIdsCommand({ SecretId: name }))
    const current = versions.Versions?.find(v => v.VersionStages?.includes('AWSCURRENT'))
    const accessKeyId = current?.VersionId ? keyIdOfVersion(current.VersionId) : undefined
    return accessKeyId && current?.CreatedDate
      ? { accessKeyId, storedAt: current.CreatedDate }
      : undefined
  }
}

/**
 * The secret's resource policy: the user may read it; every other principal is denied reading
 * the value, administrators included (they can still change the policy, which CloudTrail records).
 */
export function readOnlyByUserPolicy(userArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OwnerReads',
        Effect: 'Allow',
        Principal: { AWS: userArn },
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: '*'
      },
      {
        Sid: 'NobodyElseReads',
        Effect: 'Deny',
        Principal: '*',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': userArn } }
      }
    ]
  }
}
