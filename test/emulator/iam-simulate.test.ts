import {
  DeleteUserPermissionsBoundaryCommand,
  GetAccountAuthorizationDetailsCommand,
  GetPolicyCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListUsersCommand,
  paginateSimulatePrincipalPolicy,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  SimulatePrincipalPolicyCommand,
  type SimulatePrincipalPolicyCommandInput
} from '@aws-sdk/client-iam'
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, WorldError, type Emulator, type World } from './index.js'
import { adminClients, clients, rejection, testWorld } from './support.js'

type Clients = ReturnType<typeof clients>

const DEV = '222222222222'
const PROD = '333333333333'
const user = (name: string, account = DEV): string => `arn:aws:iam::${account}:user/${name}`
const policyArn = (name: string): string => `arn:aws:iam::${DEV}:policy/${name}`
const APP_SECRET = `arn:aws:secretsmanager:us-east-1:${DEV}:secret:app/alice-AbCdEf`
const OTHER_SECRET = `arn:aws:secretsmanager:us-east-1:${DEV}:secret:other/alice-AbCdEf`
const PROD_SECRET = `arn:aws:secretsmanager:us-east-1:${PROD}:secret:app/alice-AbCdEf`

const document = (...statements: Record<string, unknown>[]): Record<string, unknown> => ({
  Version: '2012-10-17',
  Statement: statements
})
const text = (...statements: Record<string, unknown>[]): string =>
  JSON.stringify(document(...statements))

function world(): World {
  return testWorld({
    accounts: [
      {
        id: DEV,
        memberRole: true,
        managedPolicies: [
          {
            name: 'ReadAppSecrets',
            document: document({
              Sid: 'ReadApp',
              Effect: 'Allow',
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Resource: `arn:aws:secretsmanager:*:${DEV}:secret:app/*`
            })
          },
          {
            name: 'Everything',
            document: document({ Effect: 'Allow', Action: '*', Resource: '*' })
          },
          {
            name: 'IamReadBoundary',
            path: '/boundaries/',
            description: 'IAM reads only',
            document: document({
              Effect: 'Allow',
              Action: ['iam:Get*', 'iam:List*'],
              Resource: '*'
            })
          }
        ],
        users: [
          {
            name: 'alice',
            attachedPolicies: [policyArn('ReadAppSecrets')],
            keys: [{ ageDays: 1 }]
          },
          {
            name: 'bounded',
            attachedPolicies: [policyArn('Everything')],
            permissionsBoundary: `arn:aws:iam::${DEV}:policy/boundaries/IamReadBoundary`,
            keys: [{ ageDays: 1 }]
          },
          { name: 'delegate', keys: [{ ageDays: 1 }] },
          { name: 'nobody' },
          { name: 'bob' }
        ]
      },
      { id: PROD, memberRole: true, users: [{ name: 'alice' }] }
    ]
  })
}

const BOUNDARY = `arn:aws:iam::${DEV}:policy/boundaries/IamReadBoundary`

describe('IAM SimulatePrincipalPolicy and permissions boundaries', () => {
  let emulator: Emulator
  let dev: Clients

  beforeAll(async () => {
    emulator = await startEmulator({ world: world() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => {
    emulator.loadWorld(world())
    dev = adminClients(emulator, DEV)
  })

  /** Clients acting as a world user of the dev account, by its access key. */
  async function userClients(name: string): Promise<Clients> {
    const keys = await dev.iam.send(new ListAccessKeysCommand({ UserName: name }))
    const id = keys.AccessKeyMetadata?.[0]?.AccessKeyId ?? ''
    return clients(emulator, { credentials: { accessKeyId: id, secretAccessKey: 'unchecked' } })
  }

  const simulate = (
    input: Omit<SimulatePrincipalPolicyCommandInput, 'ActionNames'> & {
      ActionNames?: string[]
    }
  ) =>
    dev.iam.send(
      new SimulatePrincipalPolicyCommand({
        ActionNames: ['secretsmanager:GetSecretValue'],
        ...input
      })
    )

  const decisions = async (input: Parameters<typeof simulate>[0]): Promise<unknown[]> =>
    ((await simulate(input)).EvaluationResults ?? []).map(r => r.EvalDecision)

  it('evaluates each action on each resource with the user’s policies', async () => {
    const result = await simulate({
      PolicySourceArn: user('alice'),
      ActionNames: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      ResourceArns: [APP_SECRET, OTHER_SECRET]
    })
    expect(result.IsTruncated).toBe(false)
    expect(
      result.EvaluationResults?.map(r => [r.EvalActionName, r.EvalResourceName, r.EvalDecision])
    ).toEqual([
      ['secretsmanager:GetSecretValue', APP_SECRET, 'allowed'],
      ['secretsmanager:GetSecretValue', OTHER_SECRET, 'implicitDeny'],
      ['secretsmanager:PutSecretValue', APP_SECRET, 'implicitDeny'],
      ['secretsmanager:PutSecretValue', OTHER_SECRET, 'implicitDeny']
    ])
    const [allowed, denied] = result.EvaluationResults ?? []
    const matched = [{ SourcePolicyId: 'ReadAppSecrets', SourcePolicyType: 'user-managed' }]
    expect(allowed?.MatchedStatements).toEqual(matched)
    expect(allowed?.ResourceSpecificResults).toEqual([
      {
        EvalResourceName: APP_SECRET,
        EvalResourceDecision: 'allowed',
        MatchedStatements: matched,
        MissingContextValues: []
      }
    ])
    expect(denied?.MatchedStatements).toEqual([])
    // No resources named: one result per action, on "*".
    const anywhere = await simulate({
      PolicySourceArn: user('bounded'),
      ActionNames: ['iam:GetUser']
    })
    expect(anywhere.EvaluationResults?.map(r => [r.EvalResourceName, r.EvalDecision])).toEqual([
      ['*', 'allowed']
    ])
    expect(anywhere.EvaluationResults?.[0]?.ResourceSpecificResults).toBeUndefined()

    // An inline Deny wins, and is the statement that matched.
    await dev.iam.send(
      new PutUserPolicyCommand({
        UserName: 'alice',
        PolicyName: 'no-app-secret',
        PolicyDocument: text({
          Effect: 'Deny',
          Action: 'secretsmanager:GetSecretValue',
          Resource: APP_SECRET
        })
      })
    )
    const denial = await simulate({ PolicySourceArn: user('alice'), ResourceArns: [APP_SECRET] })
    expect(denial.EvaluationResults?.[0]?.EvalDecision).toBe('explicitDeny')
    expect(denial.EvaluationResults?.[0]?.MatchedStatements).toEqual([
      { SourcePolicyId: 'no-app-secret', SourcePolicyType: 'user' }
    ])
  })

  it('applies the permissions boundary, or PermissionsBoundaryPolicyInputList in its place, and adds PolicyInputList', async () => {
    const result = await simulate({
      PolicySourceArn: user('bounded'),
      ActionNames: ['iam:GetUser', 'secretsmanager:GetSecretValue'],
      ResourceArns: [user('bounded')]
    })
    expect(
      result.EvaluationResults?.map(r => [
        r.EvalDecision,
        r.PermissionsBoundaryDecisionDetail?.AllowedByPermissionsBoundary
      ])
    ).toEqual([
      ['allowed', true],
      ['implicitDeny', false]
    ])
    // The identity policy allowed it: the boundary did not.
    expect(result.EvaluationResults?.[1]?.MatchedStatements).toEqual([
      { SourcePolicyId: 'Everything', SourcePolicyType: 'user-managed' }
    ])
    expect(
      await decisions({
        PolicySourceArn: user('bounded'),
        ResourceArns: [APP_SECRET],
        PermissionsBoundaryPolicyInputList: [
          text({ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' })
        ]
      })
    ).toEqual(['allowed'])
    const added = await simulate({
      PolicySourceArn: user('nobody'),
      ResourceArns: [APP_SECRET],
      PolicyInputList: [text({ Effect: 'Allow', Action: 'secretsmanager:Get*', Resource: '*' })]
    })
    expect(added.EvaluationResults?.[0]?.EvalDecision).toBe('allowed')
    expect(added.EvaluationResults?.[0]?.MatchedStatements).toEqual([
      { SourcePolicyId: 'PolicyInputList.1', SourcePolicyType: 'none' }
    ])
    expect(added.EvaluationResults?.[0]?.PermissionsBoundaryDecisionDetail).toBeUndefined()
  })

  it('takes ResourcePolicy as the resource’s: one side suffices within the account, both across accounts', async () => {
    const allows = (principal: string, effect = 'Allow') =>
      text({
        Effect: effect,
        Principal: { AWS: principal },
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*'
      })
    // Naming the user lets it in, without any identity policy.
    const byResource = await simulate({
      PolicySourceArn: user('nobody'),
      ResourceArns: [APP_SECRET],
      ResourcePolicy: allows(user('nobody'))
    })
    expect(byResource.EvaluationResults?.[0]?.EvalDecision).toBe('allowed')
    expect(byResource.EvaluationResults?.[0]?.MatchedStatements).toEqual([
      { SourcePolicyId: 'ResourcePolicy', SourcePolicyType: 'resource' }
    ])
    // Naming the account leaves the decision to the user's own policies.
    expect(
      await decisions({
        PolicySourceArn: user('nobody'),
        ResourceArns: [APP_SECRET],
        ResourcePolicy: allows(`arn:aws:iam::${DEV}:root`)
      })
    ).toEqual(['implicitDeny'])
    // A Deny in the resource policy wins over the identity allow.
    expect(
      await decisions({
        PolicySourceArn: user('alice'),
        ResourceArns: [APP_SECRET],
        ResourcePolicy: allows(user('alice'), 'Deny')
      })
    ).toEqual(['explicitDeny'])
    // A resource policy naming the user is not limited by the user's boundary (same account).
    expect(
      await decisions({
        PolicySourceArn: user('bounded'),
        ResourceArns: [APP_SECRET],
        ResourcePolicy: allows(user('bounded'))
      })
    ).toEqual(['allowed'])

    // Another account's secret: the resource policy and the identity policy must both allow.
    const prodReader = text({ Effect: 'Allow', Action: 'secretsmanager:*', Resource: PROD_SECRET })
    expect(
      await decisions({
        PolicySourceArn: user('nobody'),
        ResourceArns: [PROD_SECRET],
        ResourcePolicy: allows(user('nobody'))
      })
    ).toEqual(['implicitDeny'])
    expect(
      await decisions({
        PolicySourceArn: user('nobody'),
        ResourceArns: [PROD_SECRET],
        PolicyInputList: [prodReader]
      })
    ).toEqual(['implicitDeny'])
    expect(
      await decisions({
        PolicySourceArn: user('nobody'),
        ResourceArns: [PROD_SECRET],
        PolicyInputList: [prodReader],
        ResourcePolicy: allows(user('nobody'))
      })
    ).toEqual(['allowed'])

    // ResourceOwner owns a resource whose ARN names no account.
    const object = 'arn:aws:s3:::shared-bucket/report.csv'
    const s3Policy = text({
      Effect: 'Allow',
      Principal: { AWS: user('nobody') },
      Action: 's3:GetObject',
      Resource: '*'
    })
    const s3 = (owner?: string) =>
      decisions({
        PolicySourceArn: user('nobody'),
        ActionNames: ['s3:GetObject'],
        ResourceArns: [object],
        ResourcePolicy: s3Policy,
        ...(owner !== undefined && { ResourceOwner: owner })
      })
    expect(await s3()).toEqual(['allowed'])
    expect(await s3(`arn:aws:iam::${PROD}:root`)).toEqual(['implicitDeny'])

    // CallerArn: Bob calls, with the source user's policies.
    const asBob = (callerArn?: string) =>
      decisions({
        PolicySourceArn: user('nobody'),
        ResourceArns: [APP_SECRET],
        ResourcePolicy: allows(user('bob')),
        ...(callerArn !== undefined && { CallerArn: callerArn })
      })
    expect(await asBob()).toEqual(['implicitDeny'])
    expect(await asBob(user('bob'))).toEqual(['allowed'])
    const role = await rejection(
      simulate({
        PolicySourceArn: `arn:aws:iam::${DEV}:role/iam-key-rotation-member`,
        ResourcePolicy: allows(user('bob'))
      })
    )
    expect(role.name).toBe('InvalidInputException')
    const notUser = await rejection(
      simulate({
        PolicySourceArn: user('nobody'),
        CallerArn: `arn:aws:iam::${DEV}:role/iam-key-rotation-member`
      })
    )
    expect(notUser.name).toBe('InvalidInputException')
    const malformed = await rejection(
      simulate({ PolicySourceArn: user('nobody'), ResourcePolicy: '{' })
    )
    expect(malformed.name).toBe('MalformedPolicyDocumentException')
  })

  it('simulates a role with its own policies', async () => {
    const member = `arn:aws:iam::${DEV}:role/iam-key-rotation-member`
    const result = await simulate({
      PolicySourceArn: member,
      ActionNames: ['iam:GenerateCredentialReport', 'iam:DeleteUser'],
      ResourceArns: ['*']
    })
    expect(result.EvaluationResults?.map(r => r.EvalDecision)).toEqual(['allowed', 'implicitDeny'])
    expect(result.EvaluationResults?.[0]?.MatchedStatements?.[0]?.SourcePolicyType).toBe('role')
  })

  it('uses only the context entries given, and names the missing ones', async () => {
    const homeReader = text({
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: `arn:aws:secretsmanager:*:${DEV}:secret:home/\${aws:username}-*`,
      Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
    })
    const home = `arn:aws:secretsmanager:eu-west-1:${DEV}:secret:home/nobody-AbCdEf`
    const without = await simulate({
      PolicySourceArn: user('nobody'),
      ResourceArns: [home],
      PolicyInputList: [homeReader]
    })
    const [result] = without.EvaluationResults ?? []
    expect(result?.EvalDecision).toBe('implicitDeny')
    // With named resources the missing keys are reported per resource.
    expect(result?.MissingContextValues).toEqual([])
    expect(result?.ResourceSpecificResults?.[0]?.MissingContextValues).toEqual([
      'aws:RequestedRegion',
      'aws:username'
    ])
    const given = await simulate({
      PolicySourceArn: user('nobody'),
      ResourceArns: [home],
      PolicyInputList: [homeReader],
      ContextEntries: [
        {
          ContextKeyName: 'aws:RequestedRegion',
          ContextKeyValues: ['eu-west-1'],
          ContextKeyType: 'string'
        },
        { ContextKeyName: 'aws:username', ContextKeyValues: ['nobody'], ContextKeyType: 'string' }
      ]
    })
    expect(given.EvaluationResults?.[0]?.EvalDecision).toBe('allowed')
    expect(
      given.EvaluationResults?.[0]?.ResourceSpecificResults?.[0]?.MissingContextValues
    ).toEqual([])
    // Another user's name does not open this user's home.
    expect(
      await decisions({
        PolicySourceArn: user('nobody'),
        ResourceArns: [home],
        PolicyInputList: [homeReader],
        ContextEntries: [
          {
            ContextKeyName: 'aws:RequestedRegion',
            ContextKeyValues: ['eu-west-1'],
            ContextKeyType: 'string'
          },
          { ContextKeyName: 'aws:username', ContextKeyValues: ['bob'], ContextKeyType: 'string' }
        ]
      })
    ).toEqual(['implicitDeny'])
    // On "*" they are reported on the result itself.
    const anywhere = await simulate({
      PolicySourceArn: user('nobody'),
      PolicyInputList: [homeReader]
    })
    expect(anywhere.EvaluationResults?.[0]?.MissingContextValues).toEqual([
      'aws:RequestedRegion',
      'aws:username'
    ])
    // List-typed keys arrive as lists.
    const tagged = await simulate({
      PolicySourceArn: user('nobody'),
      ActionNames: ['iam:TagUser'],
      ResourceArns: [user('bob')],
      PolicyInputList: [
        text({
          Effect: 'Allow',
          Action: 'iam:TagUser',
          Resource: '*',
          Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': 'team:*' } }
        })
      ],
      ContextEntries: [
        {
          ContextKeyName: 'aws:TagKeys',
          ContextKeyValues: ['team:a', 'team:b'],
          ContextKeyType: 'stringList'
        }
      ]
    })
    expect(tagged.EvaluationResults?.[0]?.EvalDecision).toBe('allowed')
  })

  it('pages its results by MaxItems', async () => {
    const pages = []
    for await (const page of paginateSimulatePrincipalPolicy(
      { client: dev.iam, pageSize: 2 },
      {
        PolicySourceArn: user('alice'),
        ActionNames: [
          'secretsmanager:GetSecretValue',
          'secretsmanager:DescribeSecret',
          's3:GetObject'
        ],
        ResourceArns: [APP_SECRET]
      }
    )) {
      pages.push(page)
    }
    expect(pages.map(page => page.EvaluationResults?.length)).toEqual([2, 1])
    expect(pages.flatMap(page => page.EvaluationResults ?? []).map(r => r.EvalDecision)).toEqual([
      'allowed',
      'allowed',
      'implicitDeny'
    ])
  })

  it('answers NoSuchEntity for an unknown source, and InvalidInput for a malformed one', async () => {
    const unknown = await rejection(simulate({ PolicySourceArn: user('zoe') }))
    expect([unknown.name, unknown.message]).toEqual([
      'NoSuchEntityException',
      'The user with name zoe cannot be found.'
    ])
    const role = await rejection(simulate({ PolicySourceArn: `arn:aws:iam::${DEV}:role/nope` }))
    expect(role.name).toBe('NoSuchEntityException')
    const bad = await rejection(simulate({ PolicySourceArn: 'alice' }))
    expect(bad.name).toBe('InvalidInputException')
    // IAM grants nothing on another account's users, even to this account's administrator.
    const elsewhere = await rejection(simulate({ PolicySourceArn: user('alice', PROD) }))
    expect(elsewhere.name).toBe('AccessDenied')
  })

  it('needs iam:SimulatePrincipalPolicy on the policy source', async () => {
    const alice = await userClients('alice')
    const request = (source: string) =>
      alice.iam.send(
        new SimulatePrincipalPolicyCommand({
          PolicySourceArn: source,
          ActionNames: ['iam:DeleteUser']
        })
      )
    const denied = await rejection(request(user('alice')))
    expect(denied.name).toBe('AccessDenied')
    expect(denied.message).toBe(
      `User: ${user('alice')} is not authorized to perform: iam:SimulatePrincipalPolicy on resource: ${user('alice')} because no identity-based policy allows the iam:SimulatePrincipalPolicy action`
    )
    await dev.iam.send(
      new PutUserPolicyCommand({
        UserName: 'alice',
        PolicyName: 'simulate-self',
        PolicyDocument: text({
          Effect: 'Allow',
          Action: 'iam:SimulatePrincipalPolicy',
          Resource: `arn:aws:iam::${DEV}:user/\${aws:username}`
        })
      })
    )
    const self = await request(user('alice'))
    expect(self.EvaluationResults?.[0]?.EvalDecision).toBe('implicitDeny')
    expect((await rejection(request(user('bob')))).name).toBe('AccessDenied')
  })

  it('shows a user’s boundary where IAM does, and counts its uses', async () => {
    const bounded = await dev.iam.send(new GetUserCommand({ UserName: 'bounded' }))
    expect(bounded.User?.PermissionsBoundary).toEqual({
      PermissionsBoundaryType: 'Policy',
      PermissionsBoundaryArn: BOUNDARY
    })
    expect(
      (await dev.iam.send(new GetUserCommand({ UserName: 'alice' }))).User?.PermissionsBoundary
    ).toBeUndefined()
    const listed = await dev.iam.send(new ListUsersCommand({}))
    expect(listed.Users?.find(u => u.UserName === 'bounded')?.PermissionsBoundary).toBeUndefined()
    const details = await dev.iam.send(
      new GetAccountAuthorizationDetailsCommand({ Filter: ['User'] })
    )
    const byName = new Map(details.UserDetailList?.map(u => [u.UserName, u]))
    expect(byName.get('bounded')?.PermissionsBoundary).toEqual({
      PermissionsBoundaryType: 'Policy',
      PermissionsBoundaryArn: BOUNDARY
    })
    expect(byName.get('alice')?.PermissionsBoundary).toBeUndefined()
    const policy = await dev.iam.send(new GetPolicyCommand({ PolicyArn: BOUNDARY }))
    expect(policy.Policy).toMatchObject({
      Path: '/boundaries/',
      Description: 'IAM reads only',
      PermissionsBoundaryUsageCount: 1,
      AttachmentCount: 0
    })
    const snapshot = emulator.state(DEV).accounts[0]?.users
    expect(snapshot?.find(u => u.name === 'bounded')?.permissionsBoundary).toBe(BOUNDARY)
    expect(snapshot?.find(u => u.name === 'alice')?.permissionsBoundary).toBeNull()
  })

  it('bounds what the user may do, until the boundary is removed', async () => {
    const bounded = await userClients('bounded')
    await expect(bounded.iam.send(new GetUserCommand({}))).resolves.toBeDefined()
    const denied = await rejection(bounded.secrets.send(new ListSecretsCommand({})))
    expect(denied.name).toBe('AccessDeniedException')
    expect(denied.message).toBe(
      `User: ${user('bounded')} is not authorized to perform: secretsmanager:ListSecrets on resource: * because no permissions boundary allows the secretsmanager:ListSecrets action`
    )
    await dev.iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'bounded' }))
    expect(
      (await dev.iam.send(new GetUserCommand({ UserName: 'bounded' }))).User?.PermissionsBoundary
    ).toBeUndefined()
    await expect(bounded.secrets.send(new ListSecretsCommand({}))).resolves.toBeDefined()
    // A boundary whose text the emulator does not have allows nothing.
    await dev.iam.send(
      new PutUserPermissionsBoundaryCommand({
        UserName: 'bounded',
        PermissionsBoundary: 'arn:aws:iam::aws:policy/PowerUserAccess'
      })
    )
    expect((await rejection(bounded.iam.send(new GetUserCommand({})))).name).toBe('AccessDenied')
    await dev.iam.send(
      new PutUserPermissionsBoundaryCommand({ UserName: 'bounded', PermissionsBoundary: BOUNDARY })
    )
    await expect(bounded.iam.send(new GetUserCommand({}))).resolves.toBeDefined()
    const missing = await rejection(
      dev.iam.send(
        new PutUserPermissionsBoundaryCommand({
          UserName: 'bounded',
          PermissionsBoundary: policyArn('Nope')
        })
      )
    )
    expect(missing.name).toBe('NoSuchEntityException')
    const noUser = await rejection(
      dev.iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'zoe' }))
    )
    expect(noUser.name).toBe('NoSuchEntityException')
  })

  it('authorizes setting and removing a boundary with iam:PermissionsBoundary', async () => {
    await dev.iam.send(
      new PutUserPolicyCommand({
        UserName: 'delegate',
        PolicyName: 'only-the-read-boundary',
        PolicyDocument: text({
          Effect: 'Allow',
          Action: ['iam:PutUserPermissionsBoundary', 'iam:DeleteUserPermissionsBoundary'],
          Resource: '*',
          Condition: { ArnEquals: { 'iam:PermissionsBoundary': BOUNDARY } }
        })
      })
    )
    const delegate = await userClients('delegate')
    await delegate.iam.send(
      new PutUserPermissionsBoundaryCommand({ UserName: 'nobody', PermissionsBoundary: BOUNDARY })
    )
    const other = await rejection(
      delegate.iam.send(
        new PutUserPermissionsBoundaryCommand({
          UserName: 'nobody',
          PermissionsBoundary: policyArn('Everything')
        })
      )
    )
    expect(other.name).toBe('AccessDenied')
    // Removing names the boundary being removed.
    await delegate.iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'nobody' }))
    await dev.iam.send(
      new PutUserPermissionsBoundaryCommand({
        UserName: 'nobody',
        PermissionsBoundary: policyArn('Everything')
      })
    )
    expect(
      (
        await rejection(
          delegate.iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'nobody' }))
        )
      ).name
    ).toBe('AccessDenied')
  })

  it('checks world boundaries and managed policies on load', () => {
    const withUser = (entry: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      testWorld({
        accounts: [{ id: DEV, users: [{ name: 'u', ...entry }], ...extra }]
      })
    expect(() => emulator.loadWorld(withUser({ permissionsBoundary: 'PowerUserAccess' }))).toThrow(
      WorldError
    )
    expect(() =>
      emulator.loadWorld(withUser({ permissionsBoundary: `arn:aws:iam::${PROD}:policy/Elsewhere` }))
    ).toThrow(/is not a managed policy ARN of this account or AWS/)
    expect(() =>
      emulator.loadWorld(
        withUser({}, { managedPolicies: [{ name: 'Bad', document: { Statement: 'nope' } }] })
      )
    ).toThrow(/managed policy Bad/)
    expect(() =>
      emulator.loadWorld(
        withUser({ permissionsBoundary: 'arn:aws:iam::aws:policy/ReadOnlyAccess' })
      )
    ).not.toThrow()
  })
})
