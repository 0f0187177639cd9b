import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  DeployConfigError,
  callAsFor,
  deployStacks,
  loadMemberTemplate,
  memberRoleParameters,
  parameterProblems,
  roleArnFromCallerArn,
  type DeployOptions,
  assessCentralStack,
  checkBootstrapStacks,
  type MemberRoleParameters
} from '../../src/deploy/index.js'
import { getInputs, type InputName } from '../../src/inputs.js'
import { CFN_DIR } from '../cfn/policies.js'
import { FakeCloudFormation } from './fake-cloudformation.js'

const MEMBER_TEMPLATE = readFileSync(join(CFN_DIR, 'member-role.yaml'), 'utf8')

const MANAGEMENT = '111111111111'
const ROOT = 'r-abcd'
const OU_DEV = 'ou-abcd-11111111'
const OU_PROD = 'ou-abcd-22222222'
const DEV = ['222222222222', '333333333333']
const PROD = ['444444444444', '555555555555']
const NAME = 'iam-key-rotation-member'

const PARAMETERS: MemberRoleParameters = {
  MemberRoleName: 'iam-key-rotation-member',
  CentralRoleArn: 'arn:aws:iam::999999999999:role/iam-key-rotation-central',
  OrganizationId: 'o-abc123defg',
  SecretNamePrefix: 'iam-key-rotation/'
}

function organization(): FakeCloudFormation {
  // Service-managed StackSets never reach the management account: it is under no target here.
  return new FakeCloudFormation({ [ROOT]: [...DEV, ...PROD], [OU_DEV]: DEV, [OU_PROD]: PROD })
}

function recorder() {
  const lines = { info: [] as string[], warning: [] as string[], debug: [] as string[] }
  const sleeps: number[] = []
  return {
    lines,
    sleeps,
    log: {
      info: (m: string) => lines.info.push(m),
      warning: (m: string) => lines.warning.push(m),
      debug: (m: string) => lines.debug.push(m)
    },
    sleep: (ms: number) => {
      sleeps.push(ms)
      return Promise.resolve()
    }
  }
}

function options(
  sleep: (ms: number) => Promise<void>,
  overrides: Partial<DeployOptions> = {}
): DeployOptions {
  return {
    mode: 'apply',
    enforce: true,
    stackSetName: NAME,
    deploymentOus: [],
    organizationRootId: () => Promise.resolve(ROOT),
    stackSetRegions: ['us-east-1'],
    templateDir: CFN_DIR,
    parameters: PARAMETERS,
    accountsInScope: [MANAGEMENT, ...DEV, ...PROD],
    managementAccountId: MANAGEMENT,
    wait: { pollIntervalMs: 15_000, timeoutMs: 600_000, sleep },
    ...overrides
  }
}

describe('deployStacks: apply', () => {
  it('creates the StackSet and its instances on the first run, and waits for the operation', async () => {
    const cfn = organization()
    const { log, lines, sleep, sleeps } = recorder()
    cfn.runningDescribes = 2

    const report = await deployStacks(cfn.client, options(sleep), log)

    expect(report.mode).toBe('apply')
    expect(report.stackSet.status).toBe('created')
    expect(cfn.writes()).toEqual(['CreateStackSetCommand', 'CreateStackInstancesCommand'])
    const [create] = cfn.inputsOf('CreateStackSetCommand')
    expect(create).toMatchObject({
      StackSetName: NAME,
      TemplateBody: MEMBER_TEMPLATE,
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      Parameters: [
        { ParameterKey: 'CentralRoleArn', ParameterValue: PARAMETERS.CentralRoleArn },
        { ParameterKey: 'MemberRoleName', ParameterValue: 'iam-key-rotation-member' },
        { ParameterKey: 'OrganizationId', ParameterValue: 'o-abc123defg' },
        { ParameterKey: 'SecretNamePrefix', ParameterValue: 'iam-key-rotation/' }
      ]
    })
    // Empty deployment-ous: the organization root.
    expect(cfn.inputsOf('CreateStackInstancesCommand')).toEqual([
      expect.objectContaining({
        StackSetName: NAME,
        DeploymentTargets: { OrganizationalUnitIds: [ROOT] },
        Regions: ['us-east-1']
      })
    ])
    // Two RUNNING answers, two pauses, progress lines, then the outcome.
    expect(cfn.names().filter(n => n === 'DescribeStackSetOperationCommand')).toHaveLength(3)
    expect(sleeps).toEqual([15_000, 15_000])
    expect(lines.info.filter(l => /operation op-\d+ RUNNING/.test(l))).toHaveLength(2)
    expect(report.operations).toEqual([
      { operationId: 'op-1', action: 'CREATE_INSTANCES', status: 'SUCCEEDED', timedOut: false }
    ])
    expect(report.missingInstances).toEqual([])
    expect(report.failedInstances).toEqual([])
    expect(report.messages.join('\n')).toMatch(/management account 111111111111 .* as a stack/)
  })

  it('changes nothing on a second run when nothing changed', async () => {
    const cfn = organization()
    const { log, lines, sleep } = recorder()
    await deployStacks(cfn.client, options(sleep), log)
    const before = cfn.sent.length

    const report = await deployStacks(cfn.client, options(sleep), log)

    expect(report.stackSet).toEqual({ status: 'current', differences: [] })
    expect(cfn.writes(before)).toEqual([])
    expect(new Set(cfn.names(before))).toEqual(
      new Set(['DescribeStackSetCommand', 'ListStackInstancesCommand'])
    )
    expect(report.operations).toEqual([])
    expect(lines.info.at(-2) ?? lines.info.at(-1)).toBeDefined()
    expect(report.messages).toContain(
      `StackSet ${NAME} matches cfn/member-role.yaml and the wanted settings.`
    )
  })

  it('lists stack instances page by page', async () => {
    const cfn = organization()
    cfn.pageSize = 1
    const { log, sleep } = recorder()
    await deployStacks(cfn.client, options(sleep), log)
    const before = cfn.sent.length

    const report = await deployStacks(cfn.client, options(sleep, { mode: 'check' }), log)

    expect(cfn.names(before).filter(n => n === 'ListStackInstancesCommand')).toHaveLength(4)
    expect(report.missingInstances).toEqual([])
  })

  it('ignores formatting and comments, but updates the StackSet when the template changes', async () => {
    const cfn = organization()
    const { log, sleep } = recorder()
    await deployStacks(cfn.client, options(sleep), log)

    // Reformatted (comments gone, others added, more blank lines): the same template.
    const reformatted = MEMBER_TEMPLATE.replace(/^\s*# .*\n/gm, '').replace(
      /\n(?=[A-Z])/g,
      '\n\n# section\n'
    )
    expect(reformatted).not.toBe(MEMBER_TEMPLATE)
    let before = cfn.sent.length
    const same = await deployStacks(cfn.client, options(sleep, { templateBody: reformatted }), log)
    expect(same.stackSet.status).toBe('current')
    expect(cfn.writes(before)).toEqual([])

    // A real change: one more output.
    const changed = `${MEMBER_TEMPLATE}  MemberRoleName:\n    Description: Name of the member role.\n    Value: !Ref MemberRole\n`
    before = cfn.sent.length
    const updated = await deployStacks(cfn.client, options(sleep, { templateBody: changed }), log)

    expect(updated.stackSet).toEqual({
      status: 'updated',
      differences: ['template: Outputs.MemberRoleName added']
    })
    expect(cfn.writes(before)).toEqual(['UpdateStackSetCommand'])
    expect(cfn.inputsOf('UpdateStackSetCommand')[0]).toMatchObject({
      StackSetName: NAME,
      TemplateBody: changed,
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false }
    })
    expect(updated.operations).toEqual([
      expect.objectContaining({ action: 'UPDATE', status: 'SUCCEEDED' })
    ])

    // ...after which the changed template is current.
    before = cfn.sent.length
    const again = await deployStacks(cfn.client, options(sleep, { templateBody: changed }), log)
    expect(again.stackSet.status).toBe('current')
    expect(cfn.writes(before)).toEqual([])
  })

  it('updates the StackSet when a parameter changes', async () => {
    const cfn = organization()
    const { log, sleep } = recorder()
    await deployStacks(cfn.client, options(sleep), log)
    const before = cfn.sent.length

    const report = await deployStacks(
      cfn.client,
      options(sleep, { parameters: { ...PARAMETERS, SecretNamePrefix: 'keys/' } }),
      log
    )

    expect(report.stackSet).toEqual({
      status: 'updated',
      differences: ['parameter SecretNamePrefix: deployed "iam-key-rotation/", wanted "keys/"']
    })
    expect(cfn.writes(before)).toEqual(['UpdateStackSetCommand'])
  })

  it('keeps the parameters this run cannot tell as deployed, and never reports them', async () => {
    const cfn = organization()
    const { log, sleep } = recorder()
    const audit = 'arn:aws:iam::999999999999:role/iam-key-rotation-central-audit'
    await deployStacks(
      cfn.client,
      options(sleep, { parameters: { ...PARAMETERS, CentralAuditRoleArn: audit } }),
      log
    )
    const before = cfn.sent.length

    // A run without audit-role-to-assume: CentralAuditRoleArn is unknown, not "empty".
    const unknown = options(sleep, {
      parameters: { ...PARAMETERS, SecretNamePrefix: 'keys/' },
      unknownParameters: ['CentralAuditRoleArn', 'CentralDryRunRoleArn']
    })
    const report = await deployStacks(cfn.client, unknown, log)
    expect(report.stackSet.differences).toEqual([
      'parameter SecretNamePrefix: deployed "iam-key-rotation/", wanted "keys/"'
    ])
    // Kept with UsePreviousValue; CentralDryRunRoleArn was never deployed, so it is left out.
    const [update] = cfn.inputsOf('UpdateStackSetCommand').slice(-1) as [
      { Parameters: { ParameterKey: string; UsePreviousValue?: boolean }[] }
    ]
    expect(update.Parameters.filter(p => p.UsePreviousValue)).toEqual([
      { ParameterKey: 'CentralAuditRoleArn', UsePreviousValue: true }
    ])
    expect(update.Parameters.map(p => p.ParameterKey)).not.toContain('CentralDryRunRoleArn')
    expect(cfn.writes(before)).toEqual(['UpdateStackSetCommand'])
  })

  it('adds instances for a new deployment OU without updating the StackSet', async () => {
    const cfn = organization()
    const { log, sleep } = recorder()
    await deployStacks(cfn.client, options(sleep, { deploymentOus: [OU_DEV] }), log)
    const before = cfn.sent.length

    const report = await deployStacks(
      cfn.client,
      options(sleep, { deploymentOus: [OU_DEV, OU_PROD] }),
      log
    )

    expect(report.stackSet).toEqual({
      status: 'updated',
      differences: [`deployment target ${OU_PROD} has no stack instances`]
    })
    expect(cfn.writes(before)).toEqual(['CreateStackInstancesCommand'])
    expect(cfn.inputsOf('CreateStackInstancesCommand').at(-1)).toMatchObject({
      DeploymentTargets: { OrganizationalUnitIds: [OU_PROD] },
      Regions: ['us-east-1']
    })
    expect(report.missingInstances).toEqual([])
  })

  it('reports a FAILED stack instance and the account it leaves without a role', async () => {
    const cfn = organization()
    cfn.failingAccounts.set(
      '333333333333',
      'ResourceLogicalId:MemberRole, ResourceStatusReason: iam-key-rotation-member already exists.'
    )
    const { log, lines, sleep } = recorder()

    const report = await deployStacks(cfn.client, options(sleep), log)

    expect(report.stackSet.status).toBe('created')
    expect(report.failedInstances).toEqual([
      {
        account: '333333333333',
        region: 'us-east-1',
        reason:
          'ResourceLogicalId:MemberRole, ResourceStatusReason: iam-key-rotation-member already exists.'
      }
    ])
    expect(report.missingInstances).toEqual(['333333333333'])
    expect(lines.warning.join('\n')).toMatch(/333333333333 \(us-east-1\) failed: .*already exists/)
    expect(lines.warning.join('\n')).toMatch(/1 account in scope has .*AssumeRole .* 333333333333/)
  })

  it('reports an operation that failed as a failed StackSet', async () => {
    const cfn = organization()
    for (const account of [...DEV, ...PROD]) cfn.failingAccounts.set(account, 'denied by an SCP')
    const { log, sleep } = recorder()

    const report = await deployStacks(cfn.client, options(sleep), log)

    expect(report.stackSet.status).toBe('failed')
    expect(report.operations).toEqual([
      expect.objectContaining({ status: 'FAILED', reason: 'All stack instances failed.' })
    ])
    expect(report.failedInstances).toHaveLength(4)
    expect(report.missingInstances).toEqual([...DEV, ...PROD])
  })

  it('stops waiting after the configured time and leaves the operation running', async () => {
    const cfn = organization()
    cfn.runningDescribes = 100
    const { log, lines, sleep, sleeps } = recorder()

    const report = await deployStacks(
      cfn.client,
      options(sleep, { wait: { pollIntervalMs: 20_000, timeoutMs: 50_000, sleep } }),
      log
    )

    expect(sleeps).toEqual([20_000, 20_000, 10_000])
    expect(report.operations).toEqual([
      { operationId: 'op-1', action: 'CREATE_INSTANCES', status: 'RUNNING', timedOut: true }
    ])
    expect(report.stackSet.status).toBe('created')
    expect(lines.warning.join('\n')).toMatch(/still RUNNING after 50 s; .*next run checks/)
  })

  it('passes CallAs DELEGATED_ADMIN on every call when the central account is a delegated admin', async () => {
    const cfn = organization()
    const { log, sleep } = recorder()
    await deployStacks(cfn.client, options(sleep, { callAs: 'DELEGATED_ADMIN' }), log)
    for (const command of cfn.sent) {
      expect(command.input['CallAs'], command.name).toBe('DELEGATED_ADMIN')
    }
  })
})

describe('deployStacks: check', () => {
  it('reports a drifted StackSet and changes nothing', async () => {
    const cfn = organization()
    cfn.seed({
      name: NAME,
      templateBody: MEMBER_TEMPLATE.replace(
        'iam:DeleteAccessKey\n',
        'iam:DeleteAccessKey\n                  - iam:ListUsers\n'
      ),
      parameters: { ...PARAMETERS, SecretNamePrefix: 'old/' },
      ous: [ROOT],
      regions: ['us-east-1'],
      autoDeployment: false
    })
    const { log, lines, sleep } = recorder()

    const report = await deployStacks(cfn.client, options(sleep, { mode: 'check' }), log)

    expect(report.mode).toBe('check')
    expect(report.stackSet).toEqual({
      status: 'drifted',
      differences: [
        'template: Resources.MemberRole changed',
        'parameter SecretNamePrefix: deployed "old/", wanted "iam-key-rotation/"',
        'automatic deployment to new accounts is off'
      ]
    })
    expect(cfn.writes()).toEqual([])
    expect(lines.warning.join('\n')).toMatch(
      /differs from cfn\/member-role.yaml.*deploy-stacks: apply/
    )
    expect(report.missingInstances).toEqual([])
  })

  it('reports a missing StackSet and every account in scope as missing, except the management account', async () => {
    const cfn = organization()
    const { log, sleep } = recorder()

    const report = await deployStacks(cfn.client, options(sleep, { mode: 'check' }), log)

    expect(report.stackSet.status).toBe('missing')
    expect(report.missingInstances).toEqual([...DEV, ...PROD])
    expect(cfn.names()).toEqual(['DescribeStackSetCommand'])
  })

  it('reports accounts outside the deployment OUs as missing', async () => {
    const cfn = organization()
    cfn.seed({
      name: NAME,
      templateBody: MEMBER_TEMPLATE,
      parameters: PARAMETERS as unknown as Record<string, string>,
      ous: [OU_DEV],
      regions: ['us-east-1']
    })
    const { log, sleep } = recorder()

    const report = await deployStacks(
      cfn.client,
      options(sleep, { mode: 'check', deploymentOus: [OU_DEV] }),
      log
    )

    expect(report.stackSet.status).toBe('current')
    expect(report.missingInstances).toEqual(PROD)
  })

  it('in audit mode, apply acts as check and says so', async () => {
    const cfn = organization()
    const { log, lines, sleep } = recorder()

    const report = await deployStacks(cfn.client, options(sleep, { enforce: false }), log)

    expect(report.mode).toBe('check')
    expect(report.stackSet.status).toBe('missing')
    expect(cfn.writes()).toEqual([])
    expect(lines.info[0]).toMatch(/"apply" but mode is "audit": only checking .*nothing is changed/)
  })

  it('compares the central stacks with this release: status, template version, parameters, the fix', async () => {
    const cfn = organization()
    const parameters = (values: Record<string, string>) =>
      Object.entries(values).map(([ParameterKey, ParameterValue]) => ({
        ParameterKey,
        ParameterValue
      }))
    const version = (value: string) => [{ OutputKey: 'TemplateVersion', OutputValue: value }]
    cfn.stacks.set('current', {
      StackStatus: 'UPDATE_COMPLETE',
      Parameters: parameters({ DeployStacks: 'apply', GitHubOrg: 'acme' }),
      Outputs: version('6')
    })
    cfn.stacks.set('old', {
      StackStatus: 'CREATE_COMPLETE',
      Parameters: parameters({ DeployStacks: 'check', GitHubOrg: 'acme', GitHubRepo: "it's" })
    })
    cfn.stacks.set('broken', {
      StackStatus: 'UPDATE_ROLLBACK_COMPLETE',
      StackStatusReason: 'no',
      Outputs: version('6')
    })
    const { log, lines } = recorder()
    const spec = (name: string) => ({
      name,
      templateFile: 'central-github-oidc.yaml',
      region: 'us-east-1',
      wanted: { DeployStacks: 'apply' }
    })

    const states = await checkBootstrapStacks(
      cfn.client,
      ['current', 'old', 'broken', 'gone'].map(spec),
      message => log.warning(message)
    )

    expect(states).toEqual([
      { name: 'current', status: 'UPDATE_COMPLETE', templateVersion: '6' },
      {
        name: 'old',
        status: 'CREATE_COMPLETE',
        problems: [
          'deployed from cfn/central-github-oidc.yaml version 1 (no TemplateVersion output); this release needs version 6',
          'parameter DeployStacks is "check", the inputs need "apply"'
        ],
        // The stack's other parameters are kept, quoted for the shell.
        fix: "aws cloudformation deploy --stack-name old --template-file cfn/central-github-oidc.yaml --capabilities CAPABILITY_NAMED_IAM --region us-east-1 --parameter-overrides DeployStacks=apply GitHubOrg=acme 'GitHubRepo=it'\\''s'"
      },
      { name: 'broken', status: 'UPDATE_ROLLBACK_COMPLETE', reason: 'no', templateVersion: '6' },
      {
        name: 'gone',
        status: 'MISSING',
        problems: [
          'stack gone does not exist in us-east-1 (cfn/README.md; if it was deployed in another region, deploy it here instead or name it)'
        ],
        fix: 'aws cloudformation deploy --stack-name gone --template-file cfn/central-github-oidc.yaml --capabilities CAPABILITY_NAMED_IAM --region us-east-1 --parameter-overrides DeployStacks=apply'
      }
    ])
    const warnings = lines.warning.join('\n')
    expect(warnings).toMatch(/Stack broken is UPDATE_ROLLBACK_COMPLETE/)
    expect(warnings).toMatch(
      /Stack old: deployed from .* version 1 .*Fix, with that account's administrator credentials: aws cloudformation deploy --stack-name old/
    )
  })
})

describe('deployStacks: errors', () => {
  it('rejects parameters the template would reject, before any AWS call', async () => {
    const cfn = organization()
    const { log, sleep } = recorder()
    await expect(
      deployStacks(
        cfn.client,
        options(sleep, {
          parameters: { ...PARAMETERS, CentralRoleArn: 'central', SecretNamePrefix: '' }
        }),
        log
      )
    ).rejects.toThrow(
      /CentralRoleArn is "central": does not match .*; parameter SecretNamePrefix is "": does not match/
    )
    await expect(
      deployStacks(
        cfn.client,
        options(sleep, {
          parameters: { ...PARAMETERS, Unknown: 'x' } as unknown as MemberRoleParameters
        }),
        log
      )
    ).rejects.toThrow(DeployConfigError)
    await expect(
      deployStacks(cfn.client, options(sleep, { templateDir: '/nonexistent' }), log)
    ).rejects.toThrow(/Cannot read the member-role template/)
    expect(cfn.sent).toEqual([])
  })

  it('reports an AWS error instead of throwing, with what to do', async () => {
    const cfn = organization()
    cfn.errors.set(
      'DescribeStackSetCommand',
      Object.assign(
        new Error('User is not authorized to perform: cloudformation:DescribeStackSet'),
        {
          name: 'AccessDenied'
        }
      )
    )
    const { log, sleep } = recorder()

    const report = await deployStacks(cfn.client, options(sleep), log)

    expect(report.stackSet.status).toBe('failed')
    expect(report.messages.join('\n')).toMatch(/not authorized.*central-github-oidc.yaml/)
    expect(cfn.writes()).toEqual([])
  })

  it('reports a failed create, and does not touch a self-managed StackSet', async () => {
    const cfn = organization()
    cfn.errors.set(
      'CreateStackSetCommand',
      Object.assign(new Error('Account used is not a delegated administrator'), {
        name: 'ValidationError'
      })
    )
    const { log, sleep } = recorder()
    const report = await deployStacks(cfn.client, options(sleep), log)
    expect(report.stackSet.status).toBe('failed')
    expect(report.messages.join('\n')).toMatch(
      /delegated administrator.*ListDelegatedAdministrators/
    )

    const selfManaged = organization()
    selfManaged.seed({
      name: NAME,
      templateBody: '{}',
      parameters: {},
      ous: [],
      regions: [],
      permissionModel: 'SELF_MANAGED'
    })
    const other = await deployStacks(selfManaged.client, options(sleep), log)
    expect(other.stackSet.status).toBe('failed')
    expect(selfManaged.writes()).toEqual([])
  })

  it('warns that more than one region fails for a global IAM role', async () => {
    const cfn = organization()
    const { log, lines, sleep } = recorder()
    await deployStacks(
      cfn.client,
      options(sleep, { mode: 'check', stackSetRegions: ['us-east-1', 'eu-west-1'] }),
      log
    )
    expect(lines.warning[0]).toMatch(/2 regions.*already exists/)
  })
})

describe('deploy wiring helpers', () => {
  it('chooses CallAs from the central and management accounts', () => {
    expect(callAsFor(MANAGEMENT, MANAGEMENT)).toBe('SELF')
    expect(callAsFor('999999999999', MANAGEMENT)).toBe('DELEGATED_ADMIN')
  })

  it('finds the role behind an assumed-role caller ARN', () => {
    expect(roleArnFromCallerArn('arn:aws:sts::999999999999:assumed-role/central/run-1')).toBe(
      'arn:aws:iam::999999999999:role/central'
    )
    expect(roleArnFromCallerArn('arn:aws:iam::999999999999:role/central')).toBe(
      'arn:aws:iam::999999999999:role/central'
    )
    expect(roleArnFromCallerArn('arn:aws:iam::999999999999:user/alice')).toBeUndefined()
  })

  it('turns the action inputs into parameters the member template accepts', async () => {
    const inputs: Partial<Record<InputName, string>> = {
      'organization-id': 'o-abc123defg',
      'management-account-id': MANAGEMENT,
      'sender-email': 'security@example.com',
      'secrets-location': 'central',
      'secrets-account-id': '777777777777',
      'kms-key-id': 'arn:aws:kms:us-east-1:777777777777:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    }
    const config = getInputs(name => inputs[name] ?? '')
    const parameters = memberRoleParameters(
      config,
      { write: PARAMETERS.CentralRoleArn },
      {
        createExemptionGroup: false
      }
    )
    expect(parameters).toEqual({
      MemberRoleName: 'iam-key-rotation-member',
      CentralRoleArn: PARAMETERS.CentralRoleArn,
      AuditMemberRoleName: 'iam-key-rotation-member-audit',
      UserPath: '/',
      OrganizationId: 'o-abc123defg',
      SecretNamePrefix: 'iam-key-rotation/',
      SecretsAccountId: '777777777777',
      KmsKeyArn: 'arn:aws:kms:us-east-1:777777777777:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      CreateExemptionGroup: 'false',
      ExemptionGroupName: 'IAMKeyRotationExemptionGroup'
    })
    const template = await loadMemberTemplate(CFN_DIR)
    expect(parameterProblems(template.parameters, { ...parameters })).toEqual([])

    // Member mode with an alias: no KmsKeyArn (a policy cannot name an alias), no secrets account.
    const member = getInputs(
      name =>
        ({ ...inputs, 'secrets-location': 'member', 'kms-key-id': 'alias/secrets' })[name] ?? ''
    )
    expect(memberRoleParameters(member, { write: PARAMETERS.CentralRoleArn })).not.toHaveProperty(
      'KmsKeyArn'
    )
    expect(memberRoleParameters(member, { write: PARAMETERS.CentralRoleArn })).not.toHaveProperty(
      'SecretsAccountId'
    )
  })
})

describe('assessCentralStack', () => {
  const spec = {
    name: 'central',
    templateFile: 'central-github-oidc.yaml',
    region: 'us-east-1',
    wanted: { DeployStacks: 'check' },
    forNewStack: { GitHubOrg: 'acme', GitHubRepo: 'rotation' }
  }

  it('names the repository only in the command for a stack that does not exist yet', () => {
    expect(assessCentralStack(spec, undefined).fix).toContain(
      '--parameter-overrides DeployStacks=check GitHubOrg=acme GitHubRepo=rotation'
    )
    const deployed = assessCentralStack(spec, {
      StackName: 'central',
      StackStatus: 'CREATE_COMPLETE',
      CreationTime: new Date(0),
      Parameters: [
        { ParameterKey: 'GitHubOrg', ParameterValue: 'Acme' },
        { ParameterKey: 'DeployStacks', ParameterValue: 'check' }
      ],
      Outputs: [{ OutputKey: 'TemplateVersion', OutputValue: '6' }]
    })
    expect(deployed).toEqual({ name: 'central', status: 'CREATE_COMPLETE', templateVersion: '6' })
  })

  it('quotes every value the shell would read otherwise', () => {
    const state = assessCentralStack(
      { ...spec, wanted: { SenderEmail: "a'b $(rm -rf /) `x`" } },
      undefined
    )
    expect(state.fix).toContain(`'SenderEmail=a'\\''b $(rm -rf /) \`x\`'`)
  })
})

describe('bootstrap stacks and the inputs', () => {
  it('accepts a DeployStacks that allows more than the inputs use, and keeps it in the command', () => {
    const spec = {
      name: 'central',
      templateFile: 'central-github-oidc.yaml',
      region: 'us-east-1',
      atLeast: { DeployStacks: ['off', 'check', 'apply'] },
      wanted: { DeployStacks: 'check' }
    }
    const stack = (deployStacks: string, version?: string) => ({
      StackName: 'central',
      StackStatus: 'CREATE_COMPLETE' as const,
      CreationTime: new Date(0),
      Parameters: [{ ParameterKey: 'DeployStacks', ParameterValue: deployStacks }],
      ...(version ? { Outputs: [{ OutputKey: 'TemplateVersion', OutputValue: version }] } : {})
    })
    expect(assessCentralStack(spec, stack('apply', '6')).problems).toBeUndefined()
    // An older template is fixed without taking the other workflow's apply away.
    expect(assessCentralStack(spec, stack('apply')).fix).toContain('DeployStacks=apply')
    expect(assessCentralStack(spec, stack('off', '6')).problems).toEqual([
      'parameter DeployStacks is "off", the inputs need "check"'
    ])
  })

  it('gives the member role the secrets key stack name it may describe', () => {
    const values: Partial<Record<InputName, string>> = {
      'organization-id': 'o-a1b2c3d4e5',
      'management-account-id': '111111111111',
      'secrets-location': 'central',
      'secrets-account-id': '999999999999',
      'kms-key-id': 'arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'secrets-key-stack-name': 'our-secrets-key',
      notify: 'false'
    }
    const config = getInputs(name => values[name] ?? '')
    expect(
      memberRoleParameters(config, { write: 'arn:aws:iam::111111111111:role/central' })
        .SecretsKeyStackName
    ).toBe('our-secrets-key')
  })
})
