import { DescribeKeyCommand } from '@aws-sdk/client-kms'
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ReplicateSecretToRegionsCommand
} from '@aws-sdk/client-secrets-manager'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type World } from './index.js'
import { rootCredentials } from './callers.js'
import { clients, rejection } from './support.js'

// KMS keys are regional: Secrets Manager encrypts a replica only with a key of the replica's
// region. A multi-Region key (mrk-…) has replicas of the same id in other regions.

const ACCOUNT = '222222222222'
const MRK = 'mrk-0123456789abcdef0123456789abcdef'
const SINGLE = '11111111-2222-3333-4444-555555555555'
const EU_KEY = '66666666-7777-8888-9999-000000000000'
const arn = (region: string, id: string) => `arn:aws:kms:${region}:${ACCOUNT}:key/${id}`

function world(): World {
  return {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: '111111111111',
    accounts: [
      { id: '111111111111', name: 'management' },
      {
        id: ACCOUNT,
        name: 'dev',
        kmsKeys: [
          { id: MRK, multiRegion: true, replicaRegions: ['eu-west-1'] },
          { id: SINGLE },
          { id: EU_KEY, region: 'eu-west-1', alias: 'alias/rotation-eu' },
          // A key whose policy lets nobody use it (not even the account's administrator).
          {
            id: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
            region: 'eu-west-1',
            policy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
                  Action: 'kms:DescribeKey',
                  Resource: '*'
                }
              ]
            }
          }
        ]
      }
    ]
  }
}

describe('regional KMS keys and multi-Region replicas', () => {
  let emulator: Emulator
  const admin = (region = 'us-east-1') =>
    clients(emulator, { credentials: rootCredentials(ACCOUNT), region })

  beforeAll(async () => {
    emulator = await startEmulator({ world: world() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => emulator.loadWorld(world()))

  it('DescribeKey answers for a multi-Region key and its replica, each in its region', async () => {
    const primary = await admin().kms.send(new DescribeKeyCommand({ KeyId: MRK }))
    expect(primary.KeyMetadata).toMatchObject({
      Arn: arn('us-east-1', MRK),
      MultiRegion: true,
      MultiRegionConfiguration: {
        MultiRegionKeyType: 'PRIMARY',
        PrimaryKey: { Arn: arn('us-east-1', MRK), Region: 'us-east-1' },
        ReplicaKeys: [{ Arn: arn('eu-west-1', MRK), Region: 'eu-west-1' }]
      }
    })
    const replica = await admin('eu-west-1').kms.send(
      new DescribeKeyCommand({ KeyId: arn('eu-west-1', MRK) })
    )
    expect(replica.KeyMetadata).toMatchObject({
      KeyId: MRK,
      MultiRegion: true,
      MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' }
    })
    // A bare id names the key of the region asked; a region without a replica has none.
    const bare = await admin('eu-west-1').kms.send(new DescribeKeyCommand({ KeyId: MRK }))
    expect(bare.KeyMetadata?.Arn).toBe(arn('eu-west-1', MRK))
    const missing = await rejection(
      admin('ap-south-1').kms.send(new DescribeKeyCommand({ KeyId: arn('ap-south-1', MRK) }))
    )
    expect(missing.name).toBe('NotFoundException')
    const single = await admin().kms.send(new DescribeKeyCommand({ KeyId: SINGLE }))
    expect(single.KeyMetadata).toMatchObject({ MultiRegion: false })
    expect(single.KeyMetadata?.MultiRegionConfiguration).toBeUndefined()
  })

  it('replicas under their own region’s key are InSync: a replica ARN, a bare mrk id, an alias there', async () => {
    const created = await admin().secrets.send(
      new CreateSecretCommand({
        Name: 'mrk-secret',
        KmsKeyId: arn('us-east-1', MRK),
        AddReplicaRegions: [{ Region: 'eu-west-1', KmsKeyId: arn('eu-west-1', MRK) }]
      })
    )
    expect(created.ReplicationStatus).toEqual([
      expect.objectContaining({ Region: 'eu-west-1', Status: 'InSync' })
    ])
    for (const [name, kmsKeyId] of [
      ['bare', MRK],
      ['alias', 'alias/rotation-eu']
    ] as const) {
      const answer = await admin().secrets.send(
        new CreateSecretCommand({
          Name: `secret-${name}`,
          AddReplicaRegions: [{ Region: 'eu-west-1', KmsKeyId: kmsKeyId }]
        })
      )
      expect(answer.ReplicationStatus?.[0]?.Status, name).toBe('InSync')
    }
    const replica = await admin('eu-west-1').secrets.send(
      new DescribeSecretCommand({ SecretId: 'mrk-secret' })
    )
    expect(replica.KmsKeyId).toBe(arn('eu-west-1', MRK))
  })

  it('negative control: the primary region’s key for a replica fails the replica, as on AWS', async () => {
    const created = await admin().secrets.send(
      new CreateSecretCommand({
        Name: 'old-behaviour',
        KmsKeyId: arn('us-east-1', SINGLE),
        AddReplicaRegions: [{ Region: 'eu-west-1', KmsKeyId: arn('us-east-1', SINGLE) }]
      })
    )
    expect(created.ReplicationStatus).toEqual([
      {
        Region: 'eu-west-1',
        KmsKeyId: arn('us-east-1', SINGLE),
        Status: 'Failed',
        StatusMessage: `Replication failed: KMS key ${arn('us-east-1', SINGLE)} is not found in eu-west-1.`
      }
    ])
    // Not readable there: a failed replica is not listed in its region.
    const there = await rejection(
      admin('eu-west-1').secrets.send(new DescribeSecretCommand({ SecretId: 'old-behaviour' }))
    )
    expect(there.name).toBe('ResourceNotFoundException')
    // ReplicateSecretToRegions the same way; a multi-Region key's primary ARN is no exception.
    const replicated = await admin().secrets.send(
      new ReplicateSecretToRegionsCommand({
        SecretId: 'old-behaviour',
        AddReplicaRegions: [{ Region: 'ap-south-1', KmsKeyId: arn('us-east-1', MRK) }]
      })
    )
    expect(replicated.ReplicationStatus?.find(r => r.Region === 'ap-south-1')).toMatchObject({
      Status: 'Failed'
    })
    // A multi-Region key without a replica in that region: Failed too.
    const noReplica = await admin().secrets.send(
      new CreateSecretCommand({
        Name: 'no-replica',
        AddReplicaRegions: [{ Region: 'ap-south-1', KmsKeyId: arn('ap-south-1', MRK) }]
      })
    )
    expect(noReplica.ReplicationStatus?.[0]?.Status).toBe('Failed')
  })

  it('the replica key’s own policy decides: a key nobody may encrypt with fails the replica', async () => {
    const created = await admin().secrets.send(
      new CreateSecretCommand({
        Name: 'denied',
        AddReplicaRegions: [
          {
            Region: 'eu-west-1',
            KmsKeyId: arn('eu-west-1', 'ffffffff-ffff-ffff-ffff-ffffffffffff')
          }
        ]
      })
    )
    expect(created.ReplicationStatus?.[0]).toMatchObject({
      Status: 'Failed',
      StatusMessage: 'Replication failed: Access to KMS is not allowed.'
    })
  })
})
