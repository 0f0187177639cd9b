import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  paginateListSecretVersionIds,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  TagResourceCommand
} from '@aws-sdk/client-secrets-manager'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from './index.js'
import { clients, adminClients, rejection, testWorld } from './support.js'

type Clients = ReturnType<typeof clients>

const policy = (principal: unknown): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: principal,
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*'
      }
    ]
  })

describe('Secrets Manager', () => {
  let emulator: Emulator
  let dev: Clients

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => {
    emulator.loadWorld(testWorld())
    dev = adminClients(emulator, '222222222222')
  })

  it('creates a secret with tags, KMS key and replicas, in the ARN format AWS uses', async () => {
    const created = await dev.secrets.send(
      new CreateSecretCommand({
        Name: 'iam-key-rotation/222222222222/bob',
        SecretString: JSON.stringify({ AccessKeyId: 'AKIA…', SecretAccessKey: '…' }),
        KmsKeyId: 'alias/rotation',
        Tags: [{ Key: 'managed-by', Value: 'iam-key-rotation' }],
        AddReplicaRegions: [{ Region: 'eu-west-1', KmsKeyId: 'alias/rotation-eu' }]
      })
    )
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:222222222222:secret:iam-key-rotation\/222222222222\/bob-[A-Za-z0-9]{6}$/
    )
    expect(created.VersionId).toBeTruthy()
    expect(created.ReplicationStatus).toEqual([
      {
        Region: 'eu-west-1',
        KmsKeyId: 'alias/rotation-eu',
        Status: 'InSync',
        StatusMessage: 'Replication succeeded'
      }
    ])
    const described = await dev.secrets.send(new DescribeSecretCommand({ SecretId: created.ARN }))
    expect(described).toMatchObject({
      Name: 'iam-key-rotation/222222222222/bob',
      KmsKeyId: 'alias/rotation',
      Tags: [{ Key: 'managed-by', Value: 'iam-key-rotation' }],
      PrimaryRegion: 'us-east-1',
      VersionIdsToStages: { [created.VersionId ?? '']: ['AWSCURRENT'] }
    })
    expect(described.CreatedDate).toBeInstanceOf(Date)
    // The replica is readable in its region.
    const eu = adminClients(emulator, '222222222222', { region: 'eu-west-1' })
    const replica = await eu.secrets.send(
      new GetSecretValueCommand({ SecretId: 'iam-key-rotation/222222222222/bob' })
    )
    expect(replica.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:222222222222:secret:/)
    const duplicate = await rejection(
      dev.secrets.send(
        new CreateSecretCommand({ Name: 'iam-key-rotation/222222222222/bob', SecretString: 'x' })
      )
    )
    expect(duplicate.name).toBe('ResourceExistsException')
  })

  it('keeps secrets per account and region', async () => {
    await dev.secrets.send(new CreateSecretCommand({ Name: 'only-dev', SecretString: 'v' }))
    const prod = adminClients(emulator, '333333333333')
    const otherAccount = await rejection(
      prod.secrets.send(new GetSecretValueCommand({ SecretId: 'only-dev' }))
    )
    expect(otherAccount.name).toBe('ResourceNotFoundException')
    expect(otherAccount.message).toBe("Secrets Manager can't find the specified secret.")
    const west = adminClients(emulator, '222222222222', { region: 'us-west-2' })
    const otherRegion = await rejection(
      west.secrets.send(new GetSecretValueCommand({ SecretId: 'only-dev' }))
    )
    expect(otherRegion.name).toBe('ResourceNotFoundException')
  })

  it('moves AWSCURRENT to the new version and AWSPREVIOUS to the old one', async () => {
    const created = await dev.secrets.send(
      new CreateSecretCommand({ Name: 'rotating', SecretString: 'one' })
    )
    const second = await dev.secrets.send(
      new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'two' })
    )
    expect(second.VersionStages).toEqual(['AWSCURRENT'])
    const third = await dev.secrets.send(
      new PutSecretValueCommand({ SecretId: 'rotating', SecretString: 'three' })
    )
    const current = await dev.secrets.send(new GetSecretValueCommand({ SecretId: 'rotating' }))
    expect([current.SecretString, current.VersionId]).toEqual(['three', third.VersionId])
    const previous = await dev.secrets.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionStage: 'AWSPREVIOUS' })
    )
    expect([previous.SecretString, previous.VersionId]).toEqual(['two', second.VersionId])
    const described = await dev.secrets.send(new DescribeSecretCommand({ SecretId: 'rotating' }))
    expect(described.VersionIdsToStages).toEqual({
      [second.VersionId ?? '']: ['AWSPREVIOUS'],
      [third.VersionId ?? '']: ['AWSCURRENT']
    })
    const byId = await dev.secrets.send(
      new GetSecretValueCommand({ SecretId: 'rotating', VersionId: created.VersionId })
    )
    expect(byId.SecretString).toBe('one')
    const versions = await dev.secrets.send(
      new ListSecretVersionIdsCommand({ SecretId: 'rotating', IncludeDeprecated: true })
    )
    expect(versions.Versions).toHaveLength(3)
  })

  it('treats a repeated ClientRequestToken as a retry, and a changed value under it as an error', async () => {
    await dev.secrets.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'one' }))
    const token = '11111111-2222-4333-8444-555555555555'
    await dev.secrets.send(
      new PutSecretValueCommand({
        SecretId: 'idem',
        SecretString: 'two',
        ClientRequestToken: token
      })
    )
    await dev.secrets.send(
      new PutSecretValueCommand({
        SecretId: 'idem',
        SecretString: 'two',
        ClientRequestToken: token
      })
    )
    const conflict = await rejection(
      dev.secrets.send(
        new PutSecretValueCommand({
          SecretId: 'idem',
          SecretString: 'x',
          ClientRequestToken: token
        })
      )
    )
    expect(conflict.name).toBe('ResourceExistsException')
  })

  it('takes ClientRequestToken as the version id, on CreateSecret too, and ignores a retry', async () => {
    const token = 'a'.repeat(8) + '-create-secret-token-0001'
    const created = await dev.secrets.send(
      new CreateSecretCommand({ Name: 'tokened', SecretString: 'one', ClientRequestToken: token })
    )
    expect(created.VersionId).toBe(token)
    // The SDK retried (its first answer was lost): the same token and value change nothing.
    const retried = await dev.secrets.send(
      new CreateSecretCommand({ Name: 'tokened', SecretString: 'one', ClientRequestToken: token })
    )
    expect([retried.ARN, retried.VersionId]).toEqual([created.ARN, token])
    const changed = await rejection(
      dev.secrets.send(
        new CreateSecretCommand({ Name: 'tokened', SecretString: 'two', ClientRequestToken: token })
      )
    )
    expect([changed.name, changed.message]).toEqual([
      'ResourceExistsException',
      "You can't modify an existing version, you can only create a new version."
    ])
    const other = await rejection(
      dev.secrets.send(new CreateSecretCommand({ Name: 'tokened', SecretString: 'one' }))
    )
    expect(other.message).toBe('The operation failed because the secret tokened already exists.')
    const put = await dev.secrets.send(
      new PutSecretValueCommand({
        SecretId: 'tokened',
        SecretString: 'two',
        ClientRequestToken: 'b'.repeat(64)
      })
    )
    expect(put.VersionId).toBe('b'.repeat(64))
    const described = await dev.secrets.send(new DescribeSecretCommand({ SecretId: 'tokened' }))
    expect(described.VersionIdsToStages).toEqual({
      [token]: ['AWSPREVIOUS'],
      ['b'.repeat(64)]: ['AWSCURRENT']
    })
    for (const [length, bound] of [
      [31, 'greater than or equal to 32'],
      [65, 'less than or equal to 64']
    ] as const) {
      const invalid = await rejection(
        dev.secrets.send(
          new PutSecretValueCommand({
            SecretId: 'tokened',
            SecretString: 'three',
            ClientRequestToken: 'c'.repeat(length)
          })
        )
      )
      expect([invalid.name, invalid.message]).toEqual([
        'InvalidParameterException',
        `1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length ${bound}`
      ])
    }
  })

  it('creates a secret without a value: no versions, until one is put', async () => {
    const created = await dev.secrets.send(new CreateSecretCommand({ Name: 'empty' }))
    expect(created.VersionId).toBeUndefined()
    const described = await dev.secrets.send(new DescribeSecretCommand({ SecretId: 'empty' }))
    expect(described.Name).toBe('empty')
    expect(described.VersionIdsToStages).toBeUndefined()
    const versions = await dev.secrets.send(new ListSecretVersionIdsCommand({ SecretId: 'empty' }))
    expect(versions.Versions).toEqual([])
    const read = await rejection(dev.secrets.send(new GetSecretValueCommand({ SecretId: 'empty' })))
    expect([read.name, read.message]).toEqual([
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"
    ])
    // Protection first, value second: the policy goes on the empty secret.
    const narrow = policy({ AWS: 'arn:aws:iam::222222222222:user/bob' })
    await dev.secrets.send(
      new PutResourcePolicyCommand({ SecretId: 'empty', ResourcePolicy: narrow })
    )
    const stored = await dev.secrets.send(new GetResourcePolicyCommand({ SecretId: 'empty' }))
    expect(stored.ResourcePolicy).toBe(narrow)
    const token = '0123456789abcdef0123456789abcdef'
    await dev.secrets.send(
      new PutSecretValueCommand({ SecretId: 'empty', SecretString: 'v', ClientRequestToken: token })
    )
    const after = await dev.secrets.send(new DescribeSecretCommand({ SecretId: 'empty' }))
    expect(after.VersionIdsToStages).toEqual({ [token]: ['AWSCURRENT'] })
  })

  it('pages version ids by the world page size', async () => {
    emulator.loadWorld(testWorld({ pageSizes: { secretsmanager: 2 } }))
    dev = adminClients(emulator, '222222222222')
    await dev.secrets.send(new CreateSecretCommand({ Name: 'paged', SecretString: '0' }))
    for (const value of ['1', '2', '3', '4']) {
      await dev.secrets.send(new PutSecretValueCommand({ SecretId: 'paged', SecretString: value }))
    }
    const pages = []
    for await (const page of paginateListSecretVersionIds(
      { client: dev.secrets },
      { SecretId: 'paged', IncludeDeprecated: true }
    )) {
      pages.push(page)
    }
    expect(pages.map(page => page.Versions?.length)).toEqual([2, 2, 1])
  })

  it('honours BlockPublicPolicy and stores resource policies', async () => {
    await dev.secrets.send(new CreateSecretCommand({ Name: 'shared', SecretString: 'v' }))
    const blocked = await rejection(
      dev.secrets.send(
        new PutResourcePolicyCommand({
          SecretId: 'shared',
          ResourcePolicy: policy('*'),
          BlockPublicPolicy: true
        })
      )
    )
    expect(blocked.name).toBe('PublicPolicyException')
    const blockedAws = await rejection(
      dev.secrets.send(
        new PutResourcePolicyCommand({
          SecretId: 'shared',
          ResourcePolicy: policy({ AWS: '*' }),
          BlockPublicPolicy: true
        })
      )
    )
    expect(blockedAws.name).toBe('PublicPolicyException')
    const narrow = policy({ AWS: 'arn:aws:iam::111111111111:role/iam-key-rotation-central' })
    await dev.secrets.send(
      new PutResourcePolicyCommand({
        SecretId: 'shared',
        ResourcePolicy: narrow,
        BlockPublicPolicy: true
      })
    )
    const stored = await dev.secrets.send(new GetResourcePolicyCommand({ SecretId: 'shared' }))
    expect(stored.ResourcePolicy).toBe(narrow)
    // Without the block, a public policy is accepted (as AWS does).
    await dev.secrets.send(
      new PutResourcePolicyCommand({ SecretId: 'shared', ResourcePolicy: policy('*') })
    )
    const malformed = await rejection(
      dev.secrets.send(new PutResourcePolicyCommand({ SecretId: 'shared', ResourcePolicy: '{' }))
    )
    expect(malformed.name).toBe('MalformedPolicyDocumentException')
  })

  it('replicates to more regions, refusing to clobber a different secret unless forced', async () => {
    await dev.secrets.send(new CreateSecretCommand({ Name: 'multi', SecretString: 'v' }))
    const west = adminClients(emulator, '222222222222', { region: 'us-west-2' })
    await west.secrets.send(new CreateSecretCommand({ Name: 'multi', SecretString: 'squatter' }))
    const attempt = await dev.secrets.send(
      new ReplicateSecretToRegionsCommand({
        SecretId: 'multi',
        AddReplicaRegions: [{ Region: 'eu-west-1' }, { Region: 'us-west-2' }]
      })
    )
    expect(attempt.ReplicationStatus?.map(s => [s.Region, s.Status])).toEqual([
      ['eu-west-1', 'InSync'],
      ['us-west-2', 'Failed']
    ])
    await dev.secrets.send(
      new ReplicateSecretToRegionsCommand({
        SecretId: 'multi',
        AddReplicaRegions: [{ Region: 'us-west-2' }],
        ForceOverwriteReplicaSecret: true
      })
    )
    expect(
      (await west.secrets.send(new GetSecretValueCommand({ SecretId: 'multi' }))).SecretString
    ).toBe('v')
    const writeReplica = await rejection(
      west.secrets.send(new PutSecretValueCommand({ SecretId: 'multi', SecretString: 'nope' }))
    )
    expect(writeReplica.name).toBe('InvalidRequestException')
    const withReplicas = await rejection(
      dev.secrets.send(new DeleteSecretCommand({ SecretId: 'multi' }))
    )
    expect(withReplicas.name).toBe('InvalidRequestException')
    await dev.secrets.send(
      new RemoveRegionsFromReplicationCommand({
        SecretId: 'multi',
        RemoveReplicaRegions: ['eu-west-1', 'us-west-2']
      })
    )
    await dev.secrets.send(new DeleteSecretCommand({ SecretId: 'multi', RecoveryWindowInDays: 7 }))
  })

  it('tags secrets and deletes them with or without a recovery window', async () => {
    await dev.secrets.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'v' }))
    await dev.secrets.send(
      new TagResourceCommand({ SecretId: 'doomed', Tags: [{ Key: 'k', Value: 'v' }] })
    )
    expect(
      (await dev.secrets.send(new DescribeSecretCommand({ SecretId: 'doomed' }))).Tags
    ).toEqual([{ Key: 'k', Value: 'v' }])
    const scheduled = await dev.secrets.send(new DeleteSecretCommand({ SecretId: 'doomed' }))
    const daysLeft =
      ((scheduled.DeletionDate?.getTime() ?? 0) - emulator.now().getTime()) / 86_400_000
    expect(Math.round(daysLeft)).toBe(30)
    const marked = await rejection(
      dev.secrets.send(new GetSecretValueCommand({ SecretId: 'doomed' }))
    )
    expect(marked.name).toBe('InvalidRequestException')
    const recreate = await rejection(
      dev.secrets.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'v' }))
    )
    expect(recreate.name).toBe('InvalidRequestException')
    await dev.secrets.send(
      new DeleteSecretCommand({ SecretId: 'doomed', ForceDeleteWithoutRecovery: true })
    )
    await dev.secrets.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'again' }))
  })

  it('seeds secrets from the world', async () => {
    emulator.loadWorld(
      testWorld({
        accounts: [
          {
            id: '222222222222',
            memberRole: true,
            secrets: [
              {
                name: 'seeded',
                value: { AccessKeyId: 'AKIAOLD' },
                tags: { team: 'x' },
                region: 'eu-west-1'
              }
            ]
          }
        ]
      })
    )
    const eu = adminClients(emulator, '222222222222', { region: 'eu-west-1' })
    const value = await eu.secrets.send(new GetSecretValueCommand({ SecretId: 'seeded' }))
    expect(JSON.parse(value.SecretString ?? '{}')).toEqual({ AccessKeyId: 'AKIAOLD' })
  })
})
