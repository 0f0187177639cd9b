import {
  CreateStackCommand,
  CreateStackInstancesCommand,
  CreateStackSetCommand,
  DescribeStacksCommand,
  DescribeStackSetCommand,
  DescribeStackSetOperationCommand,
  GetTemplateCommand,
  ListStackInstancesCommand,
  paginateListStackInstances,
  UpdateStackCommand,
  UpdateStackSetCommand
} from '@aws-sdk/client-cloudformation'
import { GetRoleCommand } from '@aws-sdk/client-iam'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator } from './index.js'
import {
  assumeRole,
  CENTRAL_ROLE_ARN,
  clients,
  adminClients,
  rejection,
  testWorld
} from './support.js'

/** A member role trusting the central role; the emulator runs it as CloudFormation would. */
const TEMPLATE = JSON.stringify({
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: { MemberRoleName: { Type: 'String' }, CentralRoleArn: { Type: 'String' } },
  Resources: {
    MemberRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: { Ref: 'MemberRoleName' },
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: { Ref: 'CentralRoleArn' } },
              Action: 'sts:AssumeRole'
            }
          ]
        }
      }
    }
  }
})

/** The test organization, with a central role that may assume `rotation-member` roles. */
const world = (overrides: Parameters<typeof testWorld>[0] = {}) =>
  testWorld({
    bootstrap: { central: { MemberRoleName: 'rotation-member', IncludeManagementAccount: 'true' } },
    ...overrides
  })

const parameters = (centralRoleArn = CENTRAL_ROLE_ARN) => [
  { ParameterKey: 'MemberRoleName', ParameterValue: 'rotation-member' },
  { ParameterKey: 'CentralRoleArn', ParameterValue: centralRoleArn }
]

describe('CloudFormation', () => {
  let emulator: Emulator
  let cfn: ReturnType<typeof clients>['cloudformation']

  beforeAll(async () => {
    emulator = await startEmulator({ world: world() })
  })
  afterAll(() => emulator.close())
  beforeEach(() => {
    emulator.loadWorld(world())
    cfn = clients(emulator).cloudformation
  })

  async function createStackSet(): Promise<void> {
    await cfn.send(
      new CreateStackSetCommand({
        StackSetName: 'iam-key-rotation-member',
        TemplateBody: TEMPLATE,
        Parameters: parameters(),
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        PermissionModel: 'SERVICE_MANAGED',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false }
      })
    )
  }

  async function waitFor(operationId: string | undefined): Promise<string[]> {
    const statuses: string[] = []
    for (;;) {
      const { StackSetOperation } = await cfn.send(
        new DescribeStackSetOperationCommand({
          StackSetName: 'iam-key-rotation-member',
          OperationId: operationId
        })
      )
      statuses.push(StackSetOperation?.Status ?? 'none')
      if (StackSetOperation?.Status !== 'RUNNING') return statuses
    }
  }

  it('describes a stack set as created', async () => {
    await createStackSet()
    const { StackSet } = await cfn.send(
      new DescribeStackSetCommand({ StackSetName: 'iam-key-rotation-member' })
    )
    expect(StackSet).toMatchObject({
      StackSetName: 'iam-key-rotation-member',
      Status: 'ACTIVE',
      TemplateBody: TEMPLATE,
      Parameters: parameters(),
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM']
    })
    expect(StackSet?.StackSetARN).toMatch(
      /^arn:aws:cloudformation:us-east-1:111111111111:stackset\/iam-key-rotation-member:/
    )
    const missing = await rejection(cfn.send(new DescribeStackSetCommand({ StackSetName: 'nope' })))
    expect(missing.name).toBe('StackSetNotFoundException')
    const duplicate = await rejection(createStackSet())
    expect(duplicate.name).toBe('NameAlreadyExistsException')
  })

  it('deploys to OUs recursively, creating the member role so AssumeRole works', async () => {
    await createStackSet()
    expect((await rejection(assumeRole(emulator, '444444444444', 'rotation-member'))).name).toBe(
      'AccessDenied'
    )
    const { OperationId } = await cfn.send(
      new CreateStackInstancesCommand({
        StackSetName: 'iam-key-rotation-member',
        DeploymentTargets: { OrganizationalUnitIds: ['r-test'] },
        Regions: ['us-east-1']
      })
    )
    expect(await waitFor(OperationId)).toEqual(['RUNNING', 'SUCCEEDED'])
    const instances = await cfn.send(
      new ListStackInstancesCommand({ StackSetName: 'iam-key-rotation-member' })
    )
    // Never the management account; the suspended account is skipped.
    expect(
      instances.Summaries?.map(s => [
        s.Account,
        s.Status,
        s.StackInstanceStatus?.DetailedStatus,
        s.OrganizationalUnitId
      ])
    ).toEqual([
      ['222222222222', 'CURRENT', 'SUCCEEDED', 'r-test'],
      ['333333333333', 'CURRENT', 'SUCCEEDED', 'r-test'],
      ['444444444444', 'CURRENT', 'SUCCEEDED', 'r-test'],
      ['555555555555', 'OUTDATED', 'SKIPPED_SUSPENDED_ACCOUNT', 'r-test']
    ])
    await expect(assumeRole(emulator, '444444444444', 'rotation-member')).resolves.toBeDefined()
    const state = emulator.state('444444444444').accounts[0]
    expect(state?.roles.find(r => r.name === 'rotation-member')).toMatchObject({
      trustedPrincipals: [CENTRAL_ROLE_ARN],
      managedBy: 'stackset/iam-key-rotation-member'
    })
  })

  it('fails instances in failInstanceAccounts: no role there, operation FAILED', async () => {
    emulator.loadWorld(world({ cloudformation: { failInstanceAccounts: ['444444444444'] } }))
    cfn = clients(emulator).cloudformation
    await createStackSet()
    const { OperationId } = await cfn.send(
      new CreateStackInstancesCommand({
        StackSetName: 'iam-key-rotation-member',
        DeploymentTargets: { OrganizationalUnitIds: ['ou-test-other', 'ou-test-workloads'] },
        Regions: ['us-east-1']
      })
    )
    expect(await waitFor(OperationId)).toEqual(['RUNNING', 'FAILED'])
    const failed = await cfn.send(
      new ListStackInstancesCommand({
        StackSetName: 'iam-key-rotation-member',
        Filters: [{ Name: 'DETAILED_STATUS', Values: 'FAILED' }]
      })
    )
    expect(failed.Summaries?.map(s => [s.Account, s.Status, s.OrganizationalUnitId])).toEqual([
      ['444444444444', 'OUTDATED', 'ou-test-other']
    ])
    expect(failed.Summaries?.[0]?.StatusReason).toContain('AWS::IAM::Role')
    expect((await rejection(assumeRole(emulator, '444444444444', 'rotation-member'))).name).toBe(
      'AccessDenied'
    )
    await expect(assumeRole(emulator, '222222222222', 'rotation-member')).resolves.toBeDefined()
  })

  it('updates the stack set everywhere: the member roles follow the new central role', async () => {
    await createStackSet()
    const created = await cfn.send(
      new CreateStackInstancesCommand({
        StackSetName: 'iam-key-rotation-member',
        Accounts: ['222222222222'],
        DeploymentTargets: { OrganizationalUnitIds: ['ou-test-dev'] },
        Regions: ['us-east-1']
      })
    )
    expect(await waitFor(created.OperationId)).toEqual(['RUNNING', 'SUCCEEDED'])
    const newCentral = 'arn:aws:iam::111111111111:role/new-central'
    const updated = await cfn.send(
      new UpdateStackSetCommand({
        StackSetName: 'iam-key-rotation-member',
        UsePreviousTemplate: true,
        Parameters: [
          { ParameterKey: 'MemberRoleName', UsePreviousValue: true },
          { ParameterKey: 'CentralRoleArn', ParameterValue: newCentral }
        ]
      })
    )
    expect(await waitFor(updated.OperationId)).toEqual(['RUNNING', 'SUCCEEDED'])
    const { StackSet } = await cfn.send(
      new DescribeStackSetCommand({ StackSetName: 'iam-key-rotation-member' })
    )
    expect(StackSet?.Parameters).toEqual(parameters(newCentral))
    expect(StackSet?.Regions).toEqual(['us-east-1'])
    expect(StackSet?.OrganizationalUnitIds).toEqual(['ou-test-dev'])
    const dev = adminClients(emulator, '222222222222')
    const role = await dev.iam.send(new GetRoleCommand({ RoleName: 'rotation-member' }))
    expect(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '')).toContain(newCentral)
  })

  it('pages stack instances', async () => {
    emulator.loadWorld(world({ pageSizes: { cloudformation: 2 } }))
    cfn = clients(emulator).cloudformation
    await createStackSet()
    await cfn.send(
      new CreateStackInstancesCommand({
        StackSetName: 'iam-key-rotation-member',
        DeploymentTargets: { OrganizationalUnitIds: ['r-test'] },
        Regions: ['us-east-1', 'us-west-2']
      })
    )
    const summaries = []
    for await (const page of paginateListStackInstances(
      { client: cfn },
      { StackSetName: 'iam-key-rotation-member' }
    )) {
      expect(page.Summaries?.length).toBeLessThanOrEqual(2)
      summaries.push(...(page.Summaries ?? []))
    }
    expect(summaries).toHaveLength(8)
  })

  it('seeds stack sets from the world, with the roles their CURRENT instances imply', async () => {
    emulator.loadWorld(
      world({
        cloudformation: {
          stackSets: [
            {
              name: 'iam-key-rotation-member',
              templateBody: TEMPLATE,
              parameters: { MemberRoleName: 'rotation-member', CentralRoleArn: CENTRAL_ROLE_ARN },
              instances: [
                { account: '444444444444' },
                { account: '333333333333', status: 'OUTDATED' }
              ]
            }
          ]
        }
      })
    )
    cfn = clients(emulator).cloudformation
    const list = await cfn.send(
      new ListStackInstancesCommand({ StackSetName: 'iam-key-rotation-member' })
    )
    expect(list.Summaries?.map(s => [s.Account, s.Status])).toEqual([
      ['444444444444', 'CURRENT'],
      ['333333333333', 'OUTDATED']
    ])
    await expect(assumeRole(emulator, '444444444444', 'rotation-member')).resolves.toBeDefined()
    expect((await rejection(assumeRole(emulator, '333333333333', 'rotation-member'))).name).toBe(
      'AccessDenied'
    )
  })

  it('creates, updates and describes plain stacks, with the real ValidationError messages', async () => {
    const created = await cfn.send(
      new CreateStackCommand({
        StackName: 'member-role',
        TemplateBody: TEMPLATE,
        Parameters: parameters()
      })
    )
    expect(created.StackId).toMatch(
      /^arn:aws:cloudformation:us-east-1:111111111111:stack\/member-role\//
    )
    // The template runs for stacks too, in the caller's account (the management account here).
    await expect(assumeRole(emulator, '111111111111', 'rotation-member')).resolves.toBeDefined()
    const same = await rejection(
      cfn.send(
        new UpdateStackCommand({
          StackName: 'member-role',
          UsePreviousTemplate: true,
          Parameters: parameters()
        })
      )
    )
    expect(same.name).toBe('ValidationError')
    expect(same.message).toBe('No updates are to be performed.')
    await cfn.send(
      new UpdateStackCommand({
        StackName: 'member-role',
        TemplateBody: `${TEMPLATE} `,
        Parameters: parameters()
      })
    )
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: 'member-role' }))
    expect(Stacks?.[0]).toMatchObject({ StackName: 'member-role', StackStatus: 'UPDATE_COMPLETE' })
    expect(
      (await cfn.send(new GetTemplateCommand({ StackName: 'member-role' }))).TemplateBody
    ).toBe(`${TEMPLATE} `)
    const missing = await rejection(cfn.send(new DescribeStacksCommand({ StackName: 'nope' })))
    expect(missing.name).toBe('ValidationError')
    expect(missing.message).toBe('Stack with id nope does not exist')
    const duplicate = await rejection(
      cfn.send(new CreateStackCommand({ StackName: 'member-role', TemplateBody: TEMPLATE }))
    )
    expect(duplicate.name).toBe('AlreadyExistsException')
  })
})
