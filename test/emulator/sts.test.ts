import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListUsersCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand
} from '@aws-sdk/client-iam'
import { DescribeOrganizationCommand } from '@aws-sdk/client-organizations'
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand
} from '@aws-sdk/client-sts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from './index.js'
import { rootCredentials } from './callers.js'
import {
  adminClients,
  AMBIENT,
  asIdentity,
  assumeRole,
  CENTRAL_ROLE_ARN,
  clients,
  memberClients,
  NOW,
  rejection,
  testWorld
} from './support.js'

function jwt(claims: Record<string, unknown>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.signature`
}

describe('STS and caller identity', () => {
  let emulator: Emulator

  beforeAll(async () => {
    emulator = await startEmulator({ world: testWorld() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => emulator.loadWorld(testWorld()))

  it('treats unknown credentials as the central role, session "ambient"', async () => {
    const identity = await clients(emulator, { credentials: AMBIENT }).sts.send(
      new GetCallerIdentityCommand({})
    )
    expect(identity.Account).toBe('111111111111')
    expect(identity.Arn).toBe(
      'arn:aws:sts::111111111111:assumed-role/iam-key-rotation-central/ambient'
    )
    expect(identity.UserId).toMatch(/^AROA[A-Z2-7]{17}:ambient$/)
  })

  it('assumes the member role and acts in that account only', async () => {
    const response = await clients(emulator, { credentials: AMBIENT }).sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::222222222222:role/iam-key-rotation-member',
        RoleSessionName: 'rotation'
      })
    )
    expect(response.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::222222222222:assumed-role/iam-key-rotation-member/rotation'
    )
    expect(response.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/)
    expect(response.Credentials?.Expiration?.getTime()).toBe(Date.parse(NOW) + 3600_000)
    const dev = clients(emulator, { credentials: asIdentity(response.Credentials) })
    const identity = await dev.sts.send(new GetCallerIdentityCommand({}))
    expect(identity.Account).toBe('222222222222')
    const keys = await dev.iam.send(new ListAccessKeysCommand({ UserName: 'alice' }))
    expect(keys.AccessKeyMetadata).toHaveLength(2)
    // The member role's policies apply: it may not list users.
    const denied = await rejection(dev.iam.send(new ListUsersCommand({})))
    expect(denied.name).toBe('AccessDenied')
    expect(denied.message).toBe(
      'User: arn:aws:sts::222222222222:assumed-role/iam-key-rotation-member/rotation is not authorized to perform: iam:ListUsers on resource: * because no identity-based policy allows the iam:ListUsers action'
    )
  })

  it('keeps accounts apart: dev credentials cannot see prod users', async () => {
    const dev = adminClients(emulator, '222222222222')
    const prod = adminClients(emulator, '333333333333')
    const devAlice = await dev.iam.send(new GetUserCommand({ UserName: 'alice' }))
    const prodAlice = await prod.iam.send(new GetUserCommand({ UserName: 'alice' }))
    expect(devAlice.User?.Arn).toBe('arn:aws:iam::222222222222:user/alice')
    expect(prodAlice.User?.Arn).toBe('arn:aws:iam::333333333333:user/alice')
    const error = await rejection(prod.iam.send(new GetUserCommand({ UserName: 'bob' })))
    expect(error.name).toBe('NoSuchEntityException')
  })

  it('denies AssumeRole when the role is missing, with the AWS message', async () => {
    const error = await rejection(assumeRole(emulator, '444444444444'))
    expect(error.name).toBe('AccessDenied')
    expect(error.$metadata?.httpStatusCode).toBe(403)
    expect(error.message).toBe(
      'User: arn:aws:sts::111111111111:assumed-role/iam-key-rotation-central/ambient is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444444444444:role/iam-key-rotation-member'
    )
  })

  it('denies AssumeRole when the trust does not name the caller', async () => {
    emulator.loadWorld(
      testWorld({
        accounts: [
          {
            id: '222222222222',
            roles: [
              { name: 'other-trust', trustedPrincipals: ['arn:aws:iam::999999999999:role/x'] },
              { name: 'account-trust', trustedPrincipals: ['111111111111'] }
            ]
          }
        ]
      })
    )
    // The management account's administrator may assume anything its trust allows.
    const admin = { credentials: rootCredentials('111111111111') }
    expect((await rejection(assumeRole(emulator, '222222222222', 'other-trust', admin))).name).toBe(
      'AccessDenied'
    )
    // Trusting an account (id or root ARN) trusts every principal in it that may assume roles.
    await expect(
      assumeRole(emulator, '222222222222', 'account-trust', admin)
    ).resolves.toBeDefined()
    // The central role may not: its own policy names only the member and list-accounts roles.
    expect((await rejection(assumeRole(emulator, '222222222222', 'account-trust'))).name).toBe(
      'AccessDenied'
    )
  })

  it('denies AssumeRole into suspended accounts and unknown accounts', async () => {
    expect((await rejection(assumeRole(emulator, '555555555555'))).name).toBe('AccessDenied')
    expect((await rejection(assumeRole(emulator, '999999999999'))).name).toBe('AccessDenied')
  })

  it('lets a member-account session assume nothing the trust does not name', async () => {
    const dev = await memberClients(emulator, '222222222222')
    const error = await rejection(
      dev.sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::333333333333:role/iam-key-rotation-member',
          RoleSessionName: 'hop'
        })
      )
    )
    expect(error.message).toContain(
      'User: arn:aws:sts::222222222222:assumed-role/iam-key-rotation-member/emulator-test is not authorized'
    )
  })

  it('limits chained role sessions to one hour', async () => {
    const error = await rejection(
      clients(emulator, { credentials: AMBIENT }).sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::222222222222:role/iam-key-rotation-member',
          RoleSessionName: 'long',
          DurationSeconds: 7200
        })
      )
    )
    expect(error.name).toBe('ValidationError')
    expect(error.message).toContain('role chaining')
  })

  it('expires sessions on the emulator clock', async () => {
    const credentials = await assumeRole(emulator, '222222222222')
    emulator.advanceDays(1)
    const error = await rejection(
      clients(emulator, { credentials }).sts.send(new GetCallerIdentityCommand({}))
    )
    // Query services answer with the common ExpiredToken error (STS's own
    // ExpiredTokenException is about expired web identity tokens).
    expect(error.name).toBe('ExpiredToken')
    expect(error.message).toBe('The security token included in the request is expired')
  })

  it('exchanges a token the central trust accepts for the central role', async () => {
    const response = await clients(emulator, { credentials: AMBIENT }).sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: CENTRAL_ROLE_ARN,
        RoleSessionName: 'github-actions',
        WebIdentityToken: jwt({
          sub: 'repo:example-org/key-rotation:environment:iam-key-rotation',
          environment: 'iam-key-rotation',
          aud: 'sts.amazonaws.com',
          job_workflow_ref:
            'example-org/key-rotation/.github/workflows/key-rotation.yml@refs/heads/main'
        })
      })
    )
    expect(response.SubjectFromWebIdentityToken).toBe(
      'repo:example-org/key-rotation:environment:iam-key-rotation'
    )
    expect(response.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::111111111111:assumed-role/iam-key-rotation-central/github-actions'
    )
    const central = clients(emulator, { credentials: asIdentity(response.Credentials) })
    await expect(
      central.sts.send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::222222222222:role/iam-key-rotation-member',
          RoleSessionName: 'from-oidc'
        })
      )
    ).resolves.toBeDefined()
  })

  it("evaluates the central trust's conditions on the token's claims, and refuses roles without OIDC trust", async () => {
    emulator.loadWorld(
      testWorld({
        bootstrap: {
          central: { GitHubOrg: 'acme', GitHubRepo: 'infra', GitHubEnvironment: 'prod' }
        }
      })
    )
    const { sts } = clients(emulator)
    const exchange = (token: string, roleArn = CENTRAL_ROLE_ARN) =>
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: 'gha',
          WebIdentityToken: token
        })
      )
    const aud = 'sts.amazonaws.com'
    const job_workflow_ref = 'acme/infra/.github/workflows/key-rotation.yml@refs/heads/main'
    const environment = 'prod'
    const wrong = await rejection(
      exchange(jwt({ sub: 'repo:evil/fork:environment:prod', aud, environment, job_workflow_ref }))
    )
    expect(wrong.name).toBe('AccessDenied')
    expect(wrong.message).toBe('Not authorized to perform sts:AssumeRoleWithWebIdentity')
    const branch = await rejection(
      exchange(jwt({ sub: 'repo:acme/infra:ref:refs/heads/main', aud, job_workflow_ref }))
    )
    expect(branch.name).toBe('AccessDenied')
    // Another workflow file of the repository, even in the environment.
    const otherWorkflow = await rejection(
      exchange(
        jwt({
          sub: 'repo:acme/infra:environment:prod',
          aud,
          environment,
          job_workflow_ref: 'acme/infra/.github/workflows/comment-bot.yml@refs/heads/main'
        })
      )
    )
    expect(otherWorkflow.name).toBe('AccessDenied')
    await expect(
      exchange(jwt({ sub: 'repo:acme/infra:environment:prod', aud, environment, job_workflow_ref }))
    ).resolves.toBeDefined()
    const audience = await rejection(
      exchange(jwt({ sub: 'repo:acme/infra:environment:prod', aud: 'other', job_workflow_ref }))
    )
    expect(audience.name).toBe('InvalidIdentityTokenException')
    // The member account has no OIDC provider, so no role there can be had with a token.
    const member = 'arn:aws:iam::222222222222:role/iam-key-rotation-member'
    expect((await rejection(exchange(jwt({ sub: 'x', aud }), member))).name).toBe(
      'InvalidIdentityTokenException'
    )
  })

  it("lets a user's own access key act as that user and records its use", async () => {
    const dev = adminClients(emulator, '222222222222')
    await dev.iam.send(
      new PutUserPolicyCommand({
        UserName: 'bob',
        PolicyName: 'self',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'iam:GetUser',
              Resource: 'arn:aws:iam::222222222222:user/${aws:username}'
            }
          ]
        })
      })
    )
    const created = await dev.iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))
    const key = created.AccessKey
    if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error('no key')
    const bob = clients(emulator, {
      credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
      region: 'eu-central-1'
    })
    const identity = await bob.sts.send(new GetCallerIdentityCommand({}))
    expect(identity.Arn).toBe('arn:aws:iam::222222222222:user/bob')
    expect(identity.UserId).toMatch(/^AIDA/)
    const lastUsed = await dev.iam.send(
      new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId })
    )
    expect(lastUsed.AccessKeyLastUsed?.ServiceName).toBe('sts')
    expect(lastUsed.AccessKeyLastUsed?.Region).toBe('eu-central-1')
    expect(lastUsed.AccessKeyLastUsed?.LastUsedDate?.toISOString().slice(0, 10)).toBe(
      NOW.slice(0, 10)
    )
    // GetUser without a name answers for the calling user.
    expect((await bob.iam.send(new GetUserCommand({}))).User?.UserName).toBe('bob')
    await dev.iam.send(
      new UpdateAccessKeyCommand({
        UserName: 'bob',
        AccessKeyId: key.AccessKeyId,
        Status: 'Inactive'
      })
    )
    const inactive = await rejection(bob.sts.send(new GetCallerIdentityCommand({})))
    expect(inactive.name).toBe('InvalidClientTokenId')
    expect(inactive.$metadata?.httpStatusCode).toBe(403)
    await dev.iam.send(
      new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: key.AccessKeyId })
    )
    const deleted = await rejection(bob.organizations.send(new DescribeOrganizationCommand({})))
    expect(deleted.name).toBe('UnrecognizedClientException')
  })

  it('keeps ambient credentials ambient even when they look like a session key', async () => {
    const identity = await clients(emulator, {
      credentials: { ...AMBIENT, accessKeyId: 'ASIA-AMBIENT-TEST', sessionToken: 'x' }
    }).sts.send(new GetCallerIdentityCommand({}))
    expect(identity.Arn).toContain('assumed-role/iam-key-rotation-central/ambient')
  })
})
