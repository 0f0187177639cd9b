import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  type SecretsManagerClient
} from '@aws-sdk/client-secrets-manager'
import { awsErrorCode } from '../util/errors.js'

/** Tag on each secret naming the access key it holds (no need to read the value to know). */
export const SECRET_KEY_ID_TAG = 'iam-key-rotation:access-key-id'

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
    try {
      const put = await client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: value })
      )
      return put.ARN ?? name
    } catch (error) {
      if (awsErrorCode(error) !== 'ResourceNotFoundException') throw error
    }
    const created = await client.send(
      new CreateSecretCommand({
        Name: name,
        Description: `Access key of IAM user ${key.userArn}, rotated by iam-key-rotation.`,
        SecretString: value,
        ...(this.options.kmsKeyId ? { KmsKeyId: this.options.kmsKeyId } : {}),
        ...(this.options.replicaRegions.length > 0
          ? {
              AddReplicaRegions: this.options.replicaRegions.map(region => ({
                Region: region,
                ...(this.options.kmsKeyId ? { KmsKeyId: this.options.kmsKeyId } : {})
              }))
            }
          : {}),
        Tags: [{ Key: SECRET_KEY_ID_TAG, Value: key.accessKeyId }]
      })
    )
    return created.ARN ?? name
  }

  /**
   * After the key is stored: tag the secret with the key id, and allow only the user to read it
   * (public policies blocked). A failure here leaves a working, stored key: it is reported.
   */
  async protect(key: StoredKey, secretArn: string): Promise<void> {
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

  /** The key id the user's secret names, or undefined when there is no secret. */
  async storedKeyId(accountId: string, userName: string): Promise<string | undefined> {
    try {
      const secret = await this.options
        .clientFor(accountId)
        .send(new DescribeSecretCommand({ SecretId: this.secretName(accountId, userName) }))
      return secret.Tags?.find(tag => tag.Key === SECRET_KEY_ID_TAG)?.Value
    } catch (error) {
      if (awsErrorCode(error) === 'ResourceNotFoundException') return undefined
      throw error
    }
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
