import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteAccessKeyCommand,
  DeleteUserPolicyCommand,
  DetachUserPolicyCommand,
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  GetGroupCommand,
  GetRoleCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListUserTagsCommand,
  ListUsersCommand,
  paginateGetGroup,
  paginateListAccessKeys,
  paginateListUsers,
  paginateListUserTags,
  PutUserPolicyCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand
} from '@aws-sdk/client-iam'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CREDENTIAL_REPORT_COLUMNS, startEmulator, type Emulator } from './index.js'
import { assumeRole, clients, adminClients, NOW, rejection, testWorld } from './support.js'

type Clients = ReturnType<typeof clients>

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const page of pages) all.push(page)
  return all
}

function parseCsv(content: Uint8Array | undefined): string[][] {
  return Buffer.from(content ?? new Uint8Array())
    .toString('utf8')
    .split('\n')
    .map(line => line.split(','))
}

describe('IAM', () => {
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

  it('lists users, with paths and creation dates', async () => {
    const { Users, IsTruncated } = await dev.iam.send(new ListUsersCommand({}))
    expect(IsTruncated).toBe(false)
    expect(Users?.map(u => u.UserName)).toEqual(['alice', 'bob', 'breakglass', 'carol', 'dave'])
    const dave = Users?.find(u => u.UserName === 'dave')
    expect(dave?.Path).toBe('/service/')
    expect(dave?.Arn).toBe('arn:aws:iam::222222222222:user/service/dave')
    const alice = await dev.iam.send(new GetUserCommand({ UserName: 'alice' }))
    expect(alice.User?.Tags).toEqual([{ Key: 'owner', Value: 'alice@example.com' }])
    // A day older than the oldest key.
    expect(alice.User?.CreateDate?.getTime()).toBe(Date.parse(NOW) - 96 * 86_400_000)
  })

  it('pages ListUsers, ListAccessKeys, ListUserTags and GetGroup by the world page size', async () => {
    emulator.loadWorld(
      testWorld({
        pageSizes: { iam: 2 },
        accounts: [
          {
            id: '222222222222',
            memberRole: true,
            groups: [{ name: 'Team', members: ['u1', 'u2', 'u3', 'u4', 'u5'] }],
            users: ['u1', 'u2', 'u3', 'u4', 'u5'].map(name => ({
              name,
              tags: { a: '1', b: '2', c: '3' },
              keys: [{ ageDays: 1 }, { ageDays: 2 }]
            }))
          }
        ]
      })
    )
    const { iam } = adminClients(emulator, '222222222222')
    const first = await iam.send(new ListUsersCommand({ MaxItems: 100 }))
    expect(first.Users).toHaveLength(2)
    expect(first.IsTruncated).toBe(true)
    expect(first.Marker).toBeTruthy()
    const userPages = await collect(paginateListUsers({ client: iam }, {}))
    expect(userPages).toHaveLength(3)
    expect(userPages.flatMap(p => p.Users ?? []).map(u => u.UserName)).toEqual([
      'u1',
      'u2',
      'u3',
      'u4',
      'u5'
    ])
    const tagPages = await collect(paginateListUserTags({ client: iam }, { UserName: 'u1' }))
    expect(tagPages.flatMap(p => p.Tags ?? []).map(t => t.Key)).toEqual(['a', 'b', 'c'])
    const keyPages = await collect(
      paginateListAccessKeys({ client: iam, pageSize: 1 }, { UserName: 'u1' })
    )
    expect(keyPages).toHaveLength(2)
    const groupPages = await collect(paginateGetGroup({ client: iam }, { GroupName: 'Team' }))
    expect(groupPages.flatMap(p => p.Users ?? [])).toHaveLength(5)
    expect(groupPages[0]?.Group?.GroupName).toBe('Team')
  })

  it('reads group membership, and NoSuchEntity for unknown groups', async () => {
    const group = await dev.iam.send(
      new GetGroupCommand({ GroupName: 'IAMKeyRotationExemptionGroup' })
    )
    expect(group.Users?.map(u => u.UserName)).toEqual(['breakglass'])
    expect(group.Group?.Arn).toBe('arn:aws:iam::222222222222:group/IAMKeyRotationExemptionGroup')
    const error = await rejection(dev.iam.send(new GetGroupCommand({ GroupName: 'Nope' })))
    expect(error.name).toBe('NoSuchEntityException')
    expect(error.$metadata?.httpStatusCode).toBe(404)
  })

  it('lists every user with groups and tags in GetAccountAuthorizationDetails, paged', async () => {
    const users = []
    let marker: string | undefined
    do {
      const page = await dev.iam.send(
        new GetAccountAuthorizationDetailsCommand({ Filter: ['User'], MaxItems: 1, Marker: marker })
      )
      users.push(...(page.UserDetailList ?? []))
      marker = page.IsTruncated ? page.Marker : undefined
    } while (marker)
    const listed = await dev.iam.send(new ListUsersCommand({}))
    expect(users.map(u => u.UserName).sort()).toEqual(listed.Users?.map(u => u.UserName).sort())
    const breakglass = users.find(u => u.UserName === 'breakglass')
    expect(breakglass?.GroupList).toEqual(['IAMKeyRotationExemptionGroup'])
    expect(breakglass?.Arn).toBe('arn:aws:iam::222222222222:user/breakglass')
  })

  it('tags and untags users', async () => {
    await dev.iam.send(
      new TagUserCommand({
        UserName: 'bob',
        Tags: [
          { Key: 'owner', Value: 'robert@example.com' },
          { Key: 'rotation:rotatedAt', Value: '2026-03-01' }
        ]
      })
    )
    await dev.iam.send(new UntagUserCommand({ UserName: 'bob', TagKeys: ['rotation:rotatedAt'] }))
    const tags = await dev.iam.send(new ListUserTagsCommand({ UserName: 'bob' }))
    expect(tags.Tags).toEqual([{ Key: 'owner', Value: 'robert@example.com' }])
  })

  it('lists keys with status and creation date, and reports last use', async () => {
    const keys = await dev.iam.send(new ListAccessKeysCommand({ UserName: 'alice' }))
    expect(keys.AccessKeyMetadata?.map(k => [k.Status, k.CreateDate?.toISOString()])).toEqual([
      ['Active', new Date(Date.parse(NOW) - 95 * 86_400_000).toISOString()],
      ['Inactive', new Date(Date.parse(NOW) - 10 * 86_400_000).toISOString()]
    ])
    const [used, unused] = keys.AccessKeyMetadata ?? []
    expect(used?.AccessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/)
    const lastUsed = await dev.iam.send(
      new GetAccessKeyLastUsedCommand({ AccessKeyId: used?.AccessKeyId })
    )
    expect(lastUsed.UserName).toBe('alice')
    expect(lastUsed.AccessKeyLastUsed).toEqual({
      LastUsedDate: new Date(Date.parse(NOW) - 86_400_000),
      ServiceName: 'dynamodb',
      Region: 'eu-west-1'
    })
    const never = await dev.iam.send(
      new GetAccessKeyLastUsedCommand({ AccessKeyId: unused?.AccessKeyId })
    )
    expect(never.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' })
  })

  it('derives world key ids from the seed, stably', async () => {
    const again = await startEmulator({ world: testWorld() })
    try {
      const other = adminClients(again, '222222222222')
      const ids = async (c: Clients) =>
        (await c.iam.send(new ListAccessKeysCommand({ UserName: 'alice' }))).AccessKeyMetadata?.map(
          k => k.AccessKeyId
        )
      expect(await ids(other)).toEqual(await ids(dev))
    } finally {
      await again.close()
    }
  })

  it('creates keys up to the limit of two, then LimitExceeded', async () => {
    const created = await dev.iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))
    expect(created.AccessKey?.Status).toBe('Active')
    expect(created.AccessKey?.SecretAccessKey).toMatch(/^EMULATORFAKE[A-Za-z0-9+/]{28}$/)
    expect(created.AccessKey?.CreateDate?.toISOString().slice(0, 10)).toBe(NOW.slice(0, 10))
    expect(emulator.issuedSecrets()).toContain(created.AccessKey?.SecretAccessKey)
    const error = await rejection(dev.iam.send(new CreateAccessKeyCommand({ UserName: 'bob' })))
    expect(error.name).toBe('LimitExceededException')
    expect(error.$metadata?.httpStatusCode).toBe(409)
    expect(error.message).toBe('Cannot exceed quota for AccessKeysPerUser: 2')
  })

  it('updates and deletes keys, with NoSuchEntity for unknown users and keys', async () => {
    const { AccessKeyMetadata = [] } = await dev.iam.send(
      new ListAccessKeysCommand({ UserName: 'alice' })
    )
    const [first, second] = AccessKeyMetadata
    await dev.iam.send(
      new UpdateAccessKeyCommand({
        UserName: 'alice',
        AccessKeyId: first?.AccessKeyId,
        Status: 'Inactive'
      })
    )
    await dev.iam.send(
      new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: second?.AccessKeyId })
    )
    const after = await dev.iam.send(new ListAccessKeysCommand({ UserName: 'alice' }))
    expect(after.AccessKeyMetadata?.map(k => [k.AccessKeyId, k.Status])).toEqual([
      [first?.AccessKeyId, 'Inactive']
    ])
    const unknownUser = await rejection(
      dev.iam.send(new ListAccessKeysCommand({ UserName: 'zoe' }))
    )
    expect(unknownUser.name).toBe('NoSuchEntityException')
    expect(unknownUser.message).toBe('The user with name zoe cannot be found.')
    const unknownKey = await rejection(
      dev.iam.send(
        new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: second?.AccessKeyId })
      )
    )
    expect(unknownKey.name).toBe('NoSuchEntityException')
    // Another user's key is not this user's.
    const bobKeys = await dev.iam.send(new ListAccessKeysCommand({ UserName: 'bob' }))
    const wrongUser = await rejection(
      dev.iam.send(
        new UpdateAccessKeyCommand({
          UserName: 'alice',
          AccessKeyId: bobKeys.AccessKeyMetadata?.[0]?.AccessKeyId,
          Status: 'Inactive'
        })
      )
    )
    expect(wrongUser.name).toBe('NoSuchEntityException')
  })

  it('generates the credential report: STARTED, in progress, then the CSV snapshot', async () => {
    const started = await dev.iam.send(new GenerateCredentialReportCommand({}))
    expect(started.State).toBe('STARTED')
    // Changes after generation started are not in this report.
    await dev.iam.send(new CreateAccessKeyCommand({ UserName: 'carol' }))
    const early = await rejection(dev.iam.send(new GetCredentialReportCommand({})))
    expect(early.name).toBe('CredentialReportNotReadyException')
    expect((await dev.iam.send(new GenerateCredentialReportCommand({}))).State).toBe('COMPLETE')
    const report = await dev.iam.send(new GetCredentialReportCommand({}))
    expect(report.ReportFormat).toBe('text/csv')
    expect(report.GeneratedTime?.toISOString().slice(0, 16)).toBe(NOW.slice(0, 16))
    const [header, root, ...rows] = parseCsv(report.Content)
    expect(header).toEqual([...CREDENTIAL_REPORT_COLUMNS])
    expect(root?.slice(0, 4)).toEqual([
      '<root_account>',
      'arn:aws:iam::222222222222:root',
      expect.stringMatching(/\+00:00$/),
      'not_supported'
    ])
    const byUser = new Map(
      rows.map(row => [row[0], Object.fromEntries(header?.map((h, i) => [h, row[i]]) ?? [])])
    )
    expect([...byUser.keys()]).toEqual(['alice', 'bob', 'breakglass', 'carol', 'dave'])
    const alice = byUser.get('alice')
    expect(alice).toMatchObject({
      access_key_1_active: 'true',
      access_key_1_last_used_region: 'eu-west-1',
      access_key_1_last_used_service: 'dynamodb',
      access_key_2_active: 'false',
      access_key_2_last_used_date: 'N/A',
      cert_1_active: 'false'
    })
    expect(alice?.access_key_1_last_rotated).toBe(
      new Date(Date.parse(NOW) - 95 * 86_400_000).toISOString().replace('.000Z', '+00:00')
    )
    expect(alice?.access_key_2_last_rotated).not.toBe('N/A')
    expect(byUser.get('carol')).toMatchObject({
      access_key_1_active: 'false',
      access_key_1_last_rotated: 'N/A'
    })
  })

  it('orders report key slots by creation date', async () => {
    emulator.loadWorld(
      testWorld({
        accounts: [
          {
            id: '222222222222',
            memberRole: true,
            users: [{ name: 'u', keys: [{ ageDays: 3 }, { ageDays: 300, status: 'Inactive' }] }]
          }
        ]
      })
    )
    const { iam } = adminClients(emulator, '222222222222')
    await iam.send(new GenerateCredentialReportCommand({}))
    await iam.send(new GenerateCredentialReportCommand({}))
    const [header = [], , row = []] = parseCsv(
      (await iam.send(new GetCredentialReportCommand({}))).Content
    )
    const column = (name: string) => row[header.indexOf(name)]
    expect(column('access_key_1_active')).toBe('false')
    expect(column('access_key_2_active')).toBe('true')
  })

  it('says ReportNotPresent before any generation, and expires reports after four hours', async () => {
    expect((await rejection(dev.iam.send(new GetCredentialReportCommand({})))).name).toBe(
      'CredentialReportNotPresentException'
    )
    await dev.iam.send(new GenerateCredentialReportCommand({}))
    await dev.iam.send(new GenerateCredentialReportCommand({}))
    emulator.advanceDays(0.25)
    dev = adminClients(emulator, '222222222222')
    expect((await rejection(dev.iam.send(new GetCredentialReportCommand({})))).name).toBe(
      'CredentialReportExpiredException'
    )
    expect((await dev.iam.send(new GenerateCredentialReportCommand({}))).State).toBe('STARTED')
  })

  it('stores inline policies (returned URL-encoded, as IAM does) and attaches managed ones', async () => {
    const document = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }]
    })
    await dev.iam.send(
      new PutUserPolicyCommand({
        UserName: 'bob',
        PolicyName: 'quarantine',
        PolicyDocument: document
      })
    )
    const stored = await dev.iam.send(
      new GetUserPolicyCommand({ UserName: 'bob', PolicyName: 'quarantine' })
    )
    expect(decodeURIComponent(stored.PolicyDocument ?? '')).toBe(document)
    await dev.iam.send(new DeleteUserPolicyCommand({ UserName: 'bob', PolicyName: 'quarantine' }))
    expect(
      (
        await rejection(
          dev.iam.send(new GetUserPolicyCommand({ UserName: 'bob', PolicyName: 'quarantine' }))
        )
      ).name
    ).toBe('NoSuchEntityException')
    const malformed = await rejection(
      dev.iam.send(
        new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'x', PolicyDocument: '{' })
      )
    )
    expect(malformed.name).toBe('MalformedPolicyDocumentException')

    const created = await dev.iam.send(
      new CreatePolicyCommand({
        PolicyName: 'DenyAll',
        PolicyDocument: document,
        Path: '/rotation/'
      })
    )
    expect(created.Policy?.Arn).toBe('arn:aws:iam::222222222222:policy/rotation/DenyAll')
    const duplicate = await rejection(
      dev.iam.send(
        new CreatePolicyCommand({
          PolicyName: 'DenyAll',
          PolicyDocument: document,
          Path: '/rotation/'
        })
      )
    )
    expect(duplicate.name).toBe('EntityAlreadyExistsException')
    await dev.iam.send(
      new AttachUserPolicyCommand({ UserName: 'bob', PolicyArn: created.Policy?.Arn })
    )
    await dev.iam.send(
      new AttachUserPolicyCommand({
        UserName: 'bob',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess'
      })
    )
    const attached = await dev.iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'bob' }))
    expect(attached.AttachedPolicies?.map(p => p.PolicyName)).toEqual(['DenyAll', 'ReadOnlyAccess'])
    await dev.iam.send(
      new DetachUserPolicyCommand({ UserName: 'bob', PolicyArn: created.Policy?.Arn })
    )
    const missing = await rejection(
      dev.iam.send(new DetachUserPolicyCommand({ UserName: 'bob', PolicyArn: created.Policy?.Arn }))
    )
    expect(missing.name).toBe('NoSuchEntityException')
    const notAttachable = await rejection(
      dev.iam.send(
        new AttachUserPolicyCommand({
          UserName: 'bob',
          PolicyArn: 'arn:aws:iam::222222222222:policy/Nope'
        })
      )
    )
    expect(notAttachable.name).toBe('NoSuchEntityException')
  })

  it('gets roles with their URL-encoded trust policy, and creates roles that STS honours', async () => {
    const member = await dev.iam.send(new GetRoleCommand({ RoleName: 'iam-key-rotation-member' }))
    const trust = JSON.parse(decodeURIComponent(member.Role?.AssumeRolePolicyDocument ?? '')) as {
      Statement: { Principal: { AWS: string } }[]
    }
    expect(trust.Statement[0]?.Principal.AWS).toBe(
      'arn:aws:iam::111111111111:role/iam-key-rotation-central'
    )
    const missing = await rejection(dev.iam.send(new GetRoleCommand({ RoleName: 'nope' })))
    expect(missing.name).toBe('NoSuchEntityException')
    expect(missing.message).toBe('The role with name nope cannot be found.')

    await dev.iam.send(
      new CreateRoleCommand({
        RoleName: 'auditor',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::111111111111:role/iam-key-rotation-central' },
              Action: 'sts:AssumeRole'
            }
          ]
        })
      })
    )
    // The trust names the central role, but the central role's own policy does not grant
    // sts:AssumeRole on this role: both must allow.
    const denied = await rejection(assumeRole(emulator, '222222222222', 'auditor'))
    expect(denied.name).toBe('AccessDenied')
    expect(denied.message).toBe(
      'User: arn:aws:sts::111111111111:assumed-role/iam-key-rotation-central/ambient is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/auditor'
    )
    const duplicate = await rejection(
      dev.iam.send(new CreateRoleCommand({ RoleName: 'auditor', AssumeRolePolicyDocument: '{}' }))
    )
    expect(duplicate.name).toBe('EntityAlreadyExistsException')
  })

  it('needs a user name when the caller is not a user', async () => {
    const error = await rejection(dev.iam.send(new GetUserCommand({})))
    expect(error.name).toBe('ValidationError')
  })
})
