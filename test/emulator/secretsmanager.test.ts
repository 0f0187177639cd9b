import { CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation'
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  paginateListSecretVersionIds,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretCommand
} from '@aws-sdk/client-secrets-manager'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from './index.js'
import { rootCredentials } from './callers.js'
import { AMBIENT, adminClients, assumeRole, clients, rejection, testWorld } from './support.js'

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
        // The AWS managed key exists in every region (regional keys: kms-replicas.test.ts).
        AddReplicaRegions: [{ Region: 'eu-west-1', KmsKeyId: 'alias/aws/secretsmanager' }]
      })
    )
    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:222222222222:secret:iam-key-rotation\/222222222222\/bob-[A-Za-z0-9]{6}$/
    )
    expect(created.VersionId).toBeTruthy()
    expect(created.ReplicationStatus).toEqual([
      {
        Region: 'eu-west-1',
        KmsKeyId: 'alias/aws/secretsmanager',
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

  it('updates a secret: its description, and a value as a new AWSCURRENT version', async () => {
    const created = await dev.secrets.send(
      new CreateSecretCommand({ Name: 'updated', SecretString: 'one', Description: 'first' })
    )
    const described = await dev.secrets.send(
      new UpdateSecretCommand({ SecretId: 'updated', Description: 'second' })
    )
    // No value, no version.
    expect(described.VersionId).toBeUndefined()
    expect(described.Name).toBe('updated')
    const token = 'd'.repeat(32)
    const valued = await dev.secrets.send(
      new UpdateSecretCommand({
        SecretId: 'updated',
        SecretString: 'two',
        ClientRequestToken: token
      })
    )
    expect([valued.ARN, valued.VersionId]).toEqual([created.ARN, token])
    const after = await dev.secrets.send(new DescribeSecretCommand({ SecretId: 'updated' }))
    expect(after.Description).toBe('second')
    expect(after.VersionIdsToStages).toEqual({
      [created.VersionId ?? '']: ['AWSPREVIOUS'],
      [token]: ['AWSCURRENT']
    })
    expect(
      (await dev.secrets.send(new GetSecretValueCommand({ SecretId: 'updated' }))).SecretString
    ).toBe('two')
    // The same token and value again is a retry; another value under it is refused.
    const retried = await dev.secrets.send(
      new UpdateSecretCommand({
        SecretId: 'updated',
        SecretString: 'two',
        ClientRequestToken: token
      })
    )
    expect(retried.VersionId).toBe(token)
    const changed = await rejection(
      dev.secrets.send(
        new UpdateSecretCommand({
          SecretId: 'updated',
          SecretString: 'three',
          ClientRequestToken: token
        })
      )
    )
    expect(changed.name).toBe('ResourceExistsException')
    const binary = await dev.secrets.send(
      new UpdateSecretCommand({ SecretId: 'updated', SecretBinary: new Uint8Array([1, 2, 3]) })
    )
    const read = await dev.secrets.send(new GetSecretValueCommand({ SecretId: 'updated' }))
    expect([read.VersionId, [...(read.SecretBinary ?? [])]]).toEqual([binary.VersionId, [1, 2, 3]])
    const both = await rejection(
      dev.secrets.send(
        new UpdateSecretCommand({
          SecretId: 'updated',
          SecretString: 'x',
          SecretBinary: new Uint8Array([1])
        })
      )
    )
    expect(both.name).toBe('InvalidParameterException')
    // A new key only changes the key: no version.
    const rekeyed = await dev.secrets.send(
      new UpdateSecretCommand({ SecretId: 'updated', KmsKeyId: 'alias/other' })
    )
    expect(rekeyed.VersionId).toBeUndefined()
    const rekeyedView = await dev.secrets.send(new DescribeSecretCommand({ SecretId: 'updated' }))
    expect(rekeyedView.KmsKeyId).toBe('alias/other')
    expect(rekeyedView.VersionIdsToStages).toEqual({
      [token]: ['AWSPREVIOUS'],
      [binary.VersionId ?? '']: ['AWSCURRENT']
    })
  })

  it('refuses UpdateSecret on a secret marked for deletion, on a replica, and on no secret', async () => {
    await dev.secrets.send(
      new CreateSecretCommand({
        Name: 'replicated',
        SecretString: 'v',
        AddReplicaRegions: [{ Region: 'eu-west-1' }]
      })
    )
    const eu = adminClients(emulator, '222222222222', { region: 'eu-west-1' })
    const replica = await rejection(
      eu.secrets.send(new UpdateSecretCommand({ SecretId: 'replicated', Description: 'x' }))
    )
    expect([replica.name, replica.message]).toEqual([
      'InvalidRequestException',
      "Operation not permitted on a replica secret. Call must be made in primary secret's region."
    ])
    await dev.secrets.send(new CreateSecretCommand({ Name: 'leaving', SecretString: 'v' }))
    await dev.secrets.send(new DeleteSecretCommand({ SecretId: 'leaving' }))
    const marked = await rejection(
      dev.secrets.send(new UpdateSecretCommand({ SecretId: 'leaving', SecretString: 'w' }))
    )
    expect([marked.name, marked.message]).toEqual([
      'InvalidRequestException',
      "You can't perform this operation on the secret because it was marked for deletion."
    ])
    const missing = await rejection(
      dev.secrets.send(new UpdateSecretCommand({ SecretId: 'nothing', SecretString: 'w' }))
    )
    expect(missing.name).toBe('ResourceNotFoundException')
  })

  it('lists secrets as SecretListEntry: SecretVersionsToStages, and no ReplicationStatus', async () => {
    const created = await dev.secrets.send(
      new CreateSecretCommand({
        Name: 'listed',
        SecretString: 'v',
        Description: 'shown',
        Tags: [{ Key: 'k', Value: 'v' }],
        AddReplicaRegions: [{ Region: 'eu-west-1' }]
      })
    )
    await dev.secrets.send(new CreateSecretCommand({ Name: 'listed-empty' }))
    const listed = await dev.secrets.send(new ListSecretsCommand({}))
    const entry = listed.SecretList?.find(s => s.Name === 'listed')
    expect(entry).toMatchObject({
      ARN: created.ARN,
      Description: 'shown',
      RotationEnabled: false,
      Tags: [{ Key: 'k', Value: 'v' }],
      SecretVersionsToStages: { [created.VersionId ?? '']: ['AWSCURRENT'] },
      PrimaryRegion: 'us-east-1'
    })
    expect(entry?.CreatedDate).toBeInstanceOf(Date)
    // The SDK keeps only the fields it knows: look at the wire itself.
    const response = await fetch(emulator.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.ListSecrets',
        authorization: `AWS4-HMAC-SHA256 Credential=${rootCredentials('222222222222').accessKeyId}/20260302/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0`
      },
      body: '{}'
    })
    const wire = (await response.json()) as { SecretList: Record<string, unknown>[] }
    const raw = wire.SecretList.find(s => s['Name'] === 'listed')
    expect(Object.keys(raw ?? {}).sort()).toEqual([
      'ARN',
      'CreatedDate',
      'Description',
      'LastChangedDate',
      'Name',
      'PrimaryRegion',
      'RotationEnabled',
      'SecretVersionsToStages',
      'Tags'
    ])
    const empty = wire.SecretList.find(s => s['Name'] === 'listed-empty')
    expect(empty).not.toHaveProperty('SecretVersionsToStages')
    // DescribeSecret keeps its own names for them.
    const described = await dev.secrets.send(new DescribeSecretCommand({ SecretId: 'listed' }))
    expect(described.ReplicationStatus?.map(r => r.Region)).toEqual(['eu-west-1'])
    expect(described.VersionIdsToStages).toEqual({ [created.VersionId ?? '']: ['AWSCURRENT'] })
  })

  it('logs every value written, and whether the secret had its resource policy then', async () => {
    const narrow = policy({ AWS: 'arn:aws:iam::222222222222:user/bob' })
    await dev.secrets.send(new CreateSecretCommand({ Name: 'guarded' }))
    expect(emulator.secretValueWrites()).toEqual([])
    await dev.secrets.send(
      new PutResourcePolicyCommand({ SecretId: 'guarded', ResourcePolicy: narrow })
    )
    const put = await dev.secrets.send(
      new PutSecretValueCommand({ SecretId: 'guarded', SecretString: 'v1' })
    )
    const updated = await dev.secrets.send(
      new UpdateSecretCommand({ SecretId: 'guarded', SecretString: 'v2' })
    )
    // Neither a change without a value nor a retry writes a value.
    await dev.secrets.send(new UpdateSecretCommand({ SecretId: 'guarded', Description: 'd' }))
    await dev.secrets.send(
      new PutSecretValueCommand({
        SecretId: 'guarded',
        SecretString: 'v1',
        ClientRequestToken: put.VersionId
      })
    )
    const created = await dev.secrets.send(
      new CreateSecretCommand({ Name: 'unguarded', SecretString: 'v0' })
    )
    const eu = adminClients(emulator, '333333333333', { region: 'eu-west-1' })
    await eu.secrets.send(new CreateSecretCommand({ Name: 'prod-eu' }))
    const prodPut = await eu.secrets.send(
      new PutSecretValueCommand({ SecretId: 'prod-eu', SecretString: 'p' })
    )
    const writes = emulator.secretValueWrites()
    expect(writes.map(({ time: _time, ...write }) => write)).toEqual([
      {
        account: '222222222222',
        region: 'us-east-1',
        name: 'guarded',
        operation: 'PutSecretValue',
        versionId: put.VersionId,
        hadResourcePolicy: true
      },
      {
        account: '222222222222',
        region: 'us-east-1',
        name: 'guarded',
        operation: 'UpdateSecret',
        versionId: updated.VersionId,
        hadResourcePolicy: true
      },
      {
        account: '222222222222',
        region: 'us-east-1',
        name: 'unguarded',
        operation: 'CreateSecret',
        versionId: created.VersionId,
        hadResourcePolicy: false
      },
      {
        account: '333333333333',
        region: 'eu-west-1',
        name: 'prod-eu',
        operation: 'PutSecretValue',
        versionId: prodPut.VersionId,
        hadResourcePolicy: false
      }
    ])
    // On the emulator clock.
    expect(writes[0]?.time).toMatch(/^2026-03-02T/)
    // A refused write is no write: the central role is not in the secret's policy.
    const central = clients(emulator, { credentials: AMBIENT })
    const refused = await rejection(
      central.secrets.send(
        new PutSecretValueCommand({
          SecretId: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:guarded',
          SecretString: 'intruder'
        })
      )
    )
    expect(refused.name).toBe('AccessDeniedException')
    expect(emulator.secretValueWrites()).toHaveLength(4)
    // World secrets are not writes; a world load starts the log afresh.
    emulator.loadWorld(
      testWorld({
        accounts: [
          { id: '222222222222', memberRole: true, secrets: [{ name: 'seeded', value: 'v' }] }
        ]
      })
    )
    expect(emulator.secretValueWrites()).toEqual([])
    await dev.secrets.send(new PutSecretValueCommand({ SecretId: 'seeded', SecretString: 'w' }))
    expect(emulator.secretValueWrites()).toHaveLength(1)
    emulator.reset()
    expect(emulator.secretValueWrites()).toEqual([])
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

/** A role the account's administrator may assume, with an inline policy. */
const role = (name: string, statements: string[]): string => `
  ${name}:
    Type: AWS::IAM::Role
    Properties:
      RoleName: ${name}
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: { AWS: !Sub 'arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root' }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: secrets
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
${statements.map(statement => `              - ${statement}`).join('\n')}`

/** Two keys whose policies leave their use to IAM, and roles that may use one, the other, or both. */
const KEYS_TEMPLATE = `
Resources:
  KeyA: { Type: AWS::KMS::Key }
  KeyB: { Type: AWS::KMS::Key }
${role('Writer', [
  "{ Effect: Allow, Action: 'secretsmanager:*', Resource: '*' }",
  '{ Effect: Allow, Action: [kms:GenerateDataKey, kms:Decrypt], Resource: !GetAtt KeyA.Arn }'
])}
${role('Rekeyer', [
  "{ Effect: Allow, Action: 'secretsmanager:*', Resource: '*' }",
  '{ Effect: Allow, Action: kms:Decrypt, Resource: !GetAtt KeyA.Arn }',
  '{ Effect: Allow, Action: kms:Encrypt, Resource: !GetAtt KeyB.Arn }'
])}
${role('ReaderB', [
  "{ Effect: Allow, Action: 'secretsmanager:GetSecretValue', Resource: '*' }",
  '{ Effect: Allow, Action: kms:Decrypt, Resource: !GetAtt KeyB.Arn }'
])}
${role('Pinned', [
  "{ Effect: Allow, Action: ['secretsmanager:*', 'kms:*'], Resource: '*' }",
  "{ Effect: Deny, Action: 'secretsmanager:UpdateSecret', Resource: '*', Condition: { StringNotEquals: { 'secretsmanager:KmsKeyId': !GetAtt KeyA.Arn }, 'Null': { 'secretsmanager:KmsKeyId': 'false' } } }"
])}
Outputs:
  KeyA: { Value: !GetAtt KeyA.Arn }
  KeyB: { Value: !GetAtt KeyB.Arn }
`

describe('Secrets Manager UpdateSecret and KMS keys', () => {
  const OWNER = '222222222222'
  let emulator: Emulator
  let keys: Record<string, string>

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(async () => {
    emulator.loadWorld(testWorld())
    const owner = adminClients(emulator, OWNER).cloudformation
    await owner.send(new CreateStackCommand({ StackName: 'keys', TemplateBody: KEYS_TEMPLATE }))
    const stack = (await owner.send(new DescribeStacksCommand({ StackName: 'keys' }))).Stacks?.[0]
    expect(stack?.StackStatus, stack?.StackStatusReason).toBe('CREATE_COMPLETE')
    keys = Object.fromEntries(
      (stack?.Outputs ?? []).map(output => [output.OutputKey ?? '', output.OutputValue ?? ''])
    )
  })

  async function secretsAs(roleName: string): Promise<SecretsManagerClient> {
    const credentials = await assumeRole(emulator, OWNER, roleName, {
      credentials: rootCredentials(OWNER)
    })
    return clients(emulator, { credentials }).secrets
  }

  const keyA = (): string => keys['KeyA'] ?? ''
  const keyB = (): string => keys['KeyB'] ?? ''

  it('encrypts a new value with the new key, and refuses it without that key', async () => {
    const writer = await secretsAs('Writer')
    await writer.send(
      new CreateSecretCommand({ Name: 'keyed', KmsKeyId: keyA(), SecretString: 'v1' })
    )
    const refused = await rejection(
      writer.send(
        new UpdateSecretCommand({ SecretId: 'keyed', KmsKeyId: keyB(), SecretString: 'v2' })
      )
    )
    expect([refused.name, refused.message]).toEqual([
      'AccessDeniedException',
      'Access to KMS is not allowed'
    ])
    // Nothing changed: neither the key nor the value.
    const described = await writer.send(new DescribeSecretCommand({ SecretId: 'keyed' }))
    expect(described.KmsKeyId).toBe(keyA())
    expect((await writer.send(new GetSecretValueCommand({ SecretId: 'keyed' }))).SecretString).toBe(
      'v1'
    )
    expect(emulator.secretValueWrites().map(write => write.operation)).toEqual(['CreateSecret'])

    // The key alone may change: new values then need it, the current one stays under key A.
    await writer.send(new UpdateSecretCommand({ SecretId: 'keyed', KmsKeyId: keyB() }))
    expect((await writer.send(new DescribeSecretCommand({ SecretId: 'keyed' }))).KmsKeyId).toBe(
      keyB()
    )
    expect((await writer.send(new GetSecretValueCommand({ SecretId: 'keyed' }))).SecretString).toBe(
      'v1'
    )
    const readerB = await secretsAs('ReaderB')
    expect(
      (await rejection(readerB.send(new GetSecretValueCommand({ SecretId: 'keyed' })))).name
    ).toBe('AccessDeniedException')
    expect(
      (
        await rejection(
          writer.send(new PutSecretValueCommand({ SecretId: 'keyed', SecretString: 'v2' }))
        )
      ).name
    ).toBe('AccessDeniedException')
  })

  it('re-encrypts the labelled versions with the new key where the caller may, keeping the old key', async () => {
    const writer = await secretsAs('Writer')
    await writer.send(
      new CreateSecretCommand({ Name: 'keyed', KmsKeyId: keyA(), SecretString: 'v1' })
    )
    const rekeyer = await secretsAs('Rekeyer')
    await rekeyer.send(new UpdateSecretCommand({ SecretId: 'keyed', KmsKeyId: keyB() }))
    // Readable with the new key, and still with the previous one.
    const readerB = await secretsAs('ReaderB')
    expect(
      (await readerB.send(new GetSecretValueCommand({ SecretId: 'keyed' }))).SecretString
    ).toBe('v1')
    expect((await writer.send(new GetSecretValueCommand({ SecretId: 'keyed' }))).SecretString).toBe(
      'v1'
    )
  })

  it('authorizes UpdateSecret with secretsmanager:KmsKeyId', async () => {
    const pinned = await secretsAs('Pinned')
    await pinned.send(
      new CreateSecretCommand({ Name: 'pinned', KmsKeyId: keyA(), SecretString: 'v' })
    )
    const denied = await rejection(
      pinned.send(new UpdateSecretCommand({ SecretId: 'pinned', KmsKeyId: keyB() }))
    )
    expect(denied.name).toBe('AccessDeniedException')
    expect(denied.message).toMatch(
      /is not authorized to perform: secretsmanager:UpdateSecret on resource: arn:aws:secretsmanager:us-east-1:222222222222:secret:pinned-\w{6} with an explicit deny in an identity-based policy$/
    )
    await pinned.send(new UpdateSecretCommand({ SecretId: 'pinned', KmsKeyId: keyA() }))
    await pinned.send(new UpdateSecretCommand({ SecretId: 'pinned', Description: 'no key named' }))
  })
})
