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
   * What the user's secret says, in two calls, for the scan to weigh: undefined when there is
   * none. Nothing here is trusted yet: anyone who may write the secret can set its tags and
   * choose a version id; only the marker's signature and the version's date count.
   */
  async readStored(accountId: string, userName: string): Promise<StoredSecret | undefined> {
    const client = this.options.clientFor(accountId)
    const name = this.secretName(accountId, userName)
    let secret
    let versions
    try {
      secret = await client.send(new DescribeSecretCommand({ SecretId: name }))
      versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }))
    } catch (error) {
      if (awsErrorCode(error) === 'ResourceNotFoundException') return undefined
      throw error
    }
    const tag = (key: string) => secret.Tags?.find(t => t.Key === key)?.Value
    const current = versions.Versions?.find(v => v.VersionStages?.includes('AWSCURRENT'))
    const currentKeyId = current?.VersionId ? keyIdOfVersion(current.VersionId) : undefined
    const taggedKeyId = tag(SECRET_KEY_ID_TAG)
    const markerProblem = this.options.verifier.check(
      secretMarkerMessage(accountId, userName, name),
      tag(SECRET_MARKER_TAG)
    )
    return {
      name,
      ...(taggedKeyId ? { taggedKeyId } : {}),
      ...(currentKeyId ? { currentKeyId } : {}),
      ...(current?.CreatedDate ? { storedAt: current.CreatedDate } : {}),
      ...(markerProblem === undefined ? {} : { markerProblem })
    }
  }
}

/** A user's secret as read back (`SecretStore.readStored`). */
export interface StoredSecret {
  readonly name: string
  /** The key named by the tag every version writes: evidence only for 0.1.0's rotations. */
  readonly taggedKeyId?: string
  /** The key the current version's id names (written with the value since signed state). */
  readonly currentKeyId?: string
  /** When the current version was written. */
  readonly storedAt?: Date
  /** Why the tool's marker does not verify; undefined when the secret is the tool's. */
  readonly markerProblem?: string
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
