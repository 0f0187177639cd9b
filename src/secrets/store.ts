import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UpdateSecretCommand,
  type ReplicationStatusType,
  type SecretsManagerClient
} from '@aws-sdk/client-secrets-manager'
import {
  markerValue,
  secretMarkerMessage,
  type StateSigner,
  type StateVerifier
} from '../state/signing.js'
import { awsErrorCode } from '../util/errors.js'
import {
  SECRET_MARKER_TAG,
  checkSecret,
  readOnlyByUserPolicy,
  type SecretCheck,
  type SecretExpectation,
  type SecretProblem,
  type SecretSnapshot
} from './health.js'

/** Tag 0.1.0 put on each secret naming the key it held: read only to migrate its rotations. */
export const SECRET_KEY_ID_TAG = 'iam-key-rotation:access-key-id'

const VERSION_ID_PREFIX = 'iam-key-rotation-'

/**
 * Each value is written as the version `iam-key-rotation-<access key id>`: the key id is
 * recorded by the same call that stores the key, so no crash can separate the two.
 */
export function versionIdFor(accessKeyId: string): string {
  return `${VERSION_ID_PREFIX}${accessKeyId}`
}

export function keyIdOfVersion(versionId: string | undefined): string | undefined {
  const id = versionId?.startsWith(VERSION_ID_PREFIX)
    ? versionId.slice(VERSION_ID_PREFIX.length)
    : ''
  return /^[A-Z0-9]{16,128}$/.test(id) ? id : undefined
}

export interface StoredKey {
  readonly accountId: string
  readonly userName: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly previousAccessKeyId: string
  readonly createdAt: Date
}

export interface SecretStoreOptions {
  readonly namePrefix: string
  readonly kmsKeyId?: string
  readonly replicaRegions: readonly string[]
  /** Each replica region's key (replica-keys.ts); a region not named: aws/secretsmanager. */
  readonly replicaKmsKeyIds: Readonly<Record<string, string>>
  /** Secrets Manager client for the account that holds a member account's secrets. */
  readonly clientFor: (memberAccountId: string) => SecretsManagerClient
  readonly verifier: StateVerifier
  /** Enforce mode only: signs the marker of each secret the tool creates or adopts. */
  readonly signer?: StateSigner
}

/** A user's secret as read back, what it had to be, and the verdict. */
export interface InspectedSecret {
  readonly snapshot: SecretSnapshot
  readonly expected: SecretExpectation
  readonly check: SecretCheck
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

  /** What the secret of this user must be like (`checkSecret`). */
  expectation(
    user: Pick<SecretExpectation, 'accountId' | 'userName' | 'userArn' | 'readGrantAttached'>
  ): SecretExpectation {
    return {
      ...user,
      ...(this.options.kmsKeyId ? { kmsKeyId: this.options.kmsKeyId } : {}),
      replicaRegions: this.options.replicaRegions,
      replicaKmsKeyIds: this.options.replicaKmsKeyIds,
      signedStateSince: this.options.verifier.createdAt
    }
  }

  /**
   * The ARN of every secret of the account's users, by user name (one call per 100): a user
   * without one costs nothing more.
   */
  async listAccountSecrets(accountId: string): Promise<Map<string, string>> {
    const client = this.options.clientFor(accountId)
    const prefix = this.secretName(accountId, '')
    const found = new Map<string, string>()
    let token: string | undefined
    do {
      const page = await client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: [prefix] }],
          // A secret scheduled for deletion still holds its name (and its key): it is listed too.
          IncludePlannedDeletion: true,
          MaxResults: 100,
          NextToken: token
        })
      )
      for (const entry of page.SecretList ?? []) {
        // The name filter matches prefixes loosely (AWS also matches words); keep exact ones.
        if (entry.Name?.startsWith(prefix) && entry.ARN) {
          found.set(entry.Name.slice(prefix.length), entry.ARN)
        }
      }
      token = page.NextToken
    } while (token)
    return found
  }

  /**
   * The secret as it is now, judged against what the tool made (two calls): its description
   * and its resource policy. Every replica counts: one made to a region nobody chose can be
   * promoted to a secret of its own, with a policy of its own, and keep the key.
   */
  async inspect(expected: SecretExpectation, secretArn: string): Promise<InspectedSecret> {
    const client = this.options.clientFor(expected.accountId)
    const policy = await client.send(new GetResourcePolicyCommand({ SecretId: secretArn }))
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretArn }))
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
      stages.includes('AWSCURRENT')
    )
    const snapshot: SecretSnapshot = {
      name: described.Name ?? secretArn,
      arn: described.ARN ?? secretArn,
      ...(described.CreatedDate ? { createdAt: described.CreatedDate } : {}),
      ...(described.KmsKeyId ? { kmsKeyId: described.KmsKeyId } : {}),
      ...(described.DeletedDate ? { deletedAt: described.DeletedDate } : {}),
      tags: new Map((described.Tags ?? []).map(tag => [tag.Key ?? '', tag.Value ?? ''])),
      ...(policy.ResourcePolicy ? { resourcePolicy: policy.ResourcePolicy } : {}),
      replicas: (described.ReplicationStatus ?? []).map(replica => ({
        region: replica.Region ?? '',
        ...(replica.KmsKeyId ? { kmsKeyId: replica.KmsKeyId } : {}),
        ...(replica.Status ? { status: replica.Status } : {})
      })),
      ...(current ? { currentVersionId: current[0] } : {})
    }
    return { snapshot, expected, check: checkSecret(snapshot, expected, this.options.verifier) }
  }

  /** When the current version was written (one call): a version counts only if written with its key. */
  async currentVersionDate(accountId: string, secretId: string): Promise<Date | undefined> {
    const client = this.options.clientFor(accountId)
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }))
    return versions.Versions?.find(v => v.VersionStages?.includes('AWSCURRENT'))?.CreatedDate
  }

  /**
   * Creates the user's secret with nothing in it yet: the configured KMS key and replicas, the
   * signed marker, then the owner-only resource policy (public policies blocked). Only then may
   * a value be written. Returns the ARN. A secret of that name already there is not the tool's.
   */
  async create(
    accountId: string,
    userName: string,
    userArn: string,
    createdAt: Date
  ): Promise<string> {
    if (!this.options.signer)
      throw new Error('creating a secret needs the state signer (enforce mode)')
    const client = this.options.clientFor(accountId)
    const name = this.secretName(accountId, userName)
    const markedAt = createdAt.toISOString()
    const signature = await this.options.signer.sign(
      secretMarkerMessage(accountId, userName, name, markedAt)
    )
    let arn: string
    let replication: ReplicationStatusType[] | undefined
    try {
      const created = await client.send(
        new CreateSecretCommand({
          Name: name,
          Description: `Access key of IAM user ${userArn}, rotated by iam-key-rotation.`,
          ...(this.options.kmsKeyId ? { KmsKeyId: this.options.kmsKeyId } : {}),
          ...(this.options.replicaRegions.length > 0
            ? { AddReplicaRegions: this.replicaRegions(this.options.replicaRegions) }
            : {}),
          Tags: [{ Key: SECRET_MARKER_TAG, Value: markerValue(markedAt, signature) }]
        })
      )
      arn = created.ARN ?? name
      replication = created.ReplicationStatus
    } catch (error) {
      if (awsErrorCode(error) === 'ResourceExistsException') {
        throw new Error(
          `secret ${name} appeared after this run listed the account's secrets; the next run checks whose it is`,
          { cause: error }
        )
      }
      throw error
    }
    // Protection first, also for a secret whose replica failed (it holds no value yet).
    await this.protect(accountId, arn, userArn)
    failedReplicas(name, replication)
    return arn
  }

  /**
   * Whether the secret's current version holds this key: a write whose answer was lost may have
   * happened, and a key in the secret is never deleted.
   */
  async holdsKey(accountId: string, secretArn: string, accessKeyId: string): Promise<boolean> {
    const client = this.options.clientFor(accountId)
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretArn }))
    return (described.VersionIdsToStages?.[versionIdFor(accessKeyId)] ?? []).includes('AWSCURRENT')
  }

  /** Writes the key as the secret's new current version, its key id in the version id. */
  async writeValue(key: StoredKey, secretArn: string): Promise<void> {
    const client = this.options.clientFor(key.accountId)
    await client.send(
      new PutSecretValueCommand({
        SecretId: secretArn,
        SecretString: JSON.stringify({
          AccessKeyId: key.accessKeyId,
          SecretAccessKey: key.secretAccessKey,
          UserName: key.userName,
          CreatedAt: key.createdAt.toISOString(),
          PreviousAccessKeyId: key.previousAccessKeyId
        }),
        ClientRequestToken: versionIdFor(key.accessKeyId)
      })
    )
  }

  /** Puts one secret-side drift right (`SecretProblem.repair`); the read grant is IAM's, not here. */
  async repair(inspected: InspectedSecret, problem: SecretProblem): Promise<void> {
    const { expected, snapshot } = inspected
    const client = this.options.clientFor(expected.accountId)
    const repair = problem.repair
    switch (repair.kind) {
      case 'restore':
        await client.send(new RestoreSecretCommand({ SecretId: snapshot.arn }))
        return
      case 'resource-policy':
        await this.protect(expected.accountId, snapshot.arn, expected.userArn)
        return
      case 'kms-key':
        await client.send(
          new UpdateSecretCommand({
            SecretId: snapshot.arn,
            KmsKeyId: this.options.kmsKeyId ?? 'alias/aws/secretsmanager'
          })
        )
        return
      case 'replicas':
        if (repair.remove.length > 0) {
          await client.send(
            new RemoveRegionsFromReplicationCommand({
              SecretId: snapshot.arn,
              RemoveReplicaRegions: [...repair.remove]
            })
          )
        }
        if (repair.add.length > 0) {
          const replicated = await client.send(
            new ReplicateSecretToRegionsCommand({
              SecretId: snapshot.arn,
              AddReplicaRegions: this.replicaRegions(repair.add)
            })
          )
          failedReplicas(
            snapshot.name,
            replicated.ReplicationStatus?.filter(r => repair.add.includes(r.Region ?? ''))
          )
        }
        return
      case 'marker': {
        if (!this.options.signer || !snapshot.createdAt) {
          throw new Error('adopting a secret needs the state signer and its creation date')
        }
        const markedAt = snapshot.createdAt.toISOString()
        const signature = await this.options.signer.sign(
          secretMarkerMessage(expected.accountId, expected.userName, snapshot.name, markedAt)
        )
        await client.send(
          new TagResourceCommand({
            SecretId: snapshot.arn,
            Tags: [{ Key: SECRET_MARKER_TAG, Value: markerValue(markedAt, signature) }]
          })
        )
        return
      }
      case 'read-grant':
        throw new Error('the read grant is attached in IAM (apply-user.ts), not in Secrets Manager')
    }
  }

  /**
   * Puts the owner-only resource policy (public policies blocked) on the secret: at creation,
   * as a repair, and before every value written into a secret that already existed, so that no
   * value ever rests on a comparison of policies.
   */
  async protect(accountId: string, secretArn: string, userArn: string): Promise<void> {
    await this.options.clientFor(accountId).send(
      new PutResourcePolicyCommand({
        SecretId: secretArn,
        BlockPublicPolicy: true,
        ResourcePolicy: JSON.stringify(readOnlyByUserPolicy(userArn))
      })
    )
  }

  /** Each region with its own region's key: KMS keys are regional (replica-keys.ts). */
  private replicaRegions(regions: readonly string[]) {
    const keys = this.options.replicaKmsKeyIds
    return regions.map(region => ({
      Region: region,
      ...(Object.hasOwn(keys, region) ? { KmsKeyId: keys[region] } : {})
    }))
  }
}

/**
 * Secrets Manager accepts a replica it cannot make (a key it cannot use there) and reports it
 * Failed in the answer: a secret whose replica failed is not as the tool makes it, so no value
 * goes in (the rotation takes its new key back; the next run repairs the replica).
 */
function failedReplicas(name: string, status: readonly ReplicationStatusType[] | undefined): void {
  const failed = (status ?? []).filter(replica => replica.Status === 'Failed')
  if (failed.length === 0) return
  throw new Error(
    `secret ${name} could not be replicated to ${failed
      .map(r => `${r.Region ?? '?'} (${r.StatusMessage ?? 'no reason given'})`)
      .join(', ')}; check the replica keys (kms-key-id, replica-kms-key-ids)`
  )
}
