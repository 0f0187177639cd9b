import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam'
import { CFN_DIR } from '../cfn/policies.js'
import { rootCredentials } from '../emulator/callers.js'
import { startEmulator, type Emulator, type World } from '../emulator/index.js'
import { ORG, planActions } from '../support/emulated-action.js'
import {
  auditClaims,
  DEFAULT_CLAIMS,
  startOidcTokenServer,
  type OidcTokenServer
} from '../support/oidc-token-server.js'
import { runAction, type ActionRun } from '../support/run-action.js'

/**
 * The roles of cfn/ against what the action does, through dist/index.js with the GitHub OIDC
 * path, while the emulator evaluates every policy: both documented topologies work, and removing
 * any one important grant makes the matching call fail with AccessDenied and a message that says
 * which template to fix.
 */

const MANAGEMENT = ORG['management-account-id']
const PROD = '222222222222'
const TOOLING = '999999999999'
const SENDER = 'security@example.com'

function centralRole(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/iam-key-rotation-central`
}

function auditRole(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/iam-key-rotation-central-audit`
}

/** A management account and one member; `centralAccount` holds the central role. */
function world(centralAccount: string, overrides: Partial<World> = {}): World {
  const user = (name: string) => ({
    name,
    tags: { owner: `${name}@example.com` },
    keys: [{ ageDays: 95, lastUsedDaysAgo: 1 }]
  })
  return {
    organizationId: ORG['organization-id'],
    managementAccountId: MANAGEMENT,
    central: { accountId: centralAccount },
    // The central role as deployed for this workflow: deploy-stacks apply, mail as SENDER.
    // The management account's users are in scope here (IncludeManagementAccount, and the
    // action's include-management-account), to prove the opt-in works.
    bootstrap: {
      central: { DeployStacks: 'apply', SenderEmail: SENDER, IncludeManagementAccount: 'true' }
    },
    ses: { verifiedIdentities: [SENDER] },
    accounts: [
      { id: MANAGEMENT, name: 'management', memberRole: true, users: [user('mgmt-bot')] },
      { id: PROD, name: 'prod', users: [user('ci-bot')] },
      ...(centralAccount === MANAGEMENT ? [] : [{ id: centralAccount, name: 'security-tooling' }])
    ],
    ...overrides
  }
}

/** A cfn/ template with one line removed (the grant under test); fails if it is not there. */
function withoutLine(file: string, line: string): string {
  const body = readFileSync(join(CFN_DIR, file), 'utf8')
  const lines = body.split('\n')
  const index = lines.findIndex(candidate => candidate.trim() === line)
  expect(index, `${file} has no line "${line}"`).toBeGreaterThanOrEqual(0)
  lines.splice(index, 1)
  return lines.join('\n')
}

async function rotate(
  emulator: Emulator,
  tokens: OidcTokenServer,
  centralAccount: string,
  inputs: Record<string, string> = {}
): Promise<ActionRun & { plan: ReturnType<typeof readPlan> }> {
  const run = await runAction({
    inputs: {
      ...ORG,
      'role-to-assume': centralRole(centralAccount),
      mode: 'enforce',
      'deploy-stacks': 'apply',
      notify: 'true',
      'sender-email': SENDER,
      'open-issues': 'false',
      'include-management-account': 'true',
      ...inputs
    },
    env: {
      AWS_ENDPOINT_URL: emulator.url,
      ...tokens.env
    }
  })
  return { ...run, plan: readPlan(run) }
}

function readPlan(run: ActionRun) {
  const dir = run.outputs['report-dir']
  return dir
    ? (JSON.parse(
        readFileSync(join(dir, 'plan.json'), 'utf8')
      ) as import('../../src/plan/types.js').Plan)
    : undefined
}

describe.concurrent('the templates grant what the action does, in both topologies', () => {
  let tokens: OidcTokenServer
  beforeAll(async () => {
    tokens = await startOidcTokenServer()
  })
  afterAll(() => tokens.close())

  it('central role in the management account: deploys, rotates everywhere and mails', async () => {
    const emulator = await startEmulator({ world: world(MANAGEMENT) })
    try {
      const run = await rotate(emulator, tokens, MANAGEMENT)
      expect(run.exitCode, run.stdout).toBe(0)
      expect(run.plan?.deployment).toMatchObject({ mode: 'apply', status: 'created' })
      expect(
        planActions(run.plan!)
          .filter(a => a.result === 'done')
          .map(a => a.user)
          .sort()
      ).toEqual(['ci-bot', 'mgmt-bot'])
      expect(emulator.emails().length).toBeGreaterThan(0)
      const counts = emulator.requestCounts()
      expect(counts.byOperation['sts:AssumeRoleWithWebIdentity']).toBe(1)
      // deployment-ous is empty: the root comes from ListRoots, through the list-accounts role.
      expect(counts.byOperation['organizations:ListRoots']).toBe(1)
      expect(counts.byErrorCode['AccessDenied'] ?? 0).toBe(0)
      expect(counts.byErrorCode['AccessDeniedException'] ?? 0).toBe(0)
    } finally {
      await emulator.close()
    }
  })

  it('central role in its own account (StackSets delegated administrator): the same', async () => {
    const emulator = await startEmulator({ world: world(TOOLING) })
    try {
      // With the optional reads too: the OU walk and the central stack's own status.
      const run = await rotate(emulator, tokens, TOOLING, {
        'organizational-units': 'r-a1b2',
        'central-stack-name': 'iam-key-rotation-central',
        'list-accounts-stack-name': 'iam-key-rotation-list-accounts'
      })
      expect(run.exitCode, run.stdout).toBe(0)
      expect(run.plan?.deployment).toMatchObject({
        mode: 'apply',
        status: 'created',
        centralStacks: [
          { name: 'iam-key-rotation-central', status: 'CREATE_COMPLETE', templateVersion: '6' },
          {
            name: 'iam-key-rotation-list-accounts',
            status: 'CREATE_COMPLETE',
            templateVersion: '6'
          }
        ]
      })
      for (const stack of run.plan?.deployment?.centralStacks ?? []) {
        expect(stack.problems, stack.name).toBeUndefined()
      }
      expect(
        planActions(run.plan!)
          .filter(a => a.result === 'done')
          .map(a => a.user)
          .sort()
      ).toEqual(['ci-bot', 'mgmt-bot'])
      expect(emulator.emails().length).toBeGreaterThan(0)
      const counts = emulator.requestCounts()
      expect(counts.byOperation['organizations:ListAccountsForParent']).toBeGreaterThan(0)
      expect(counts.byErrorCode['AccessDenied'] ?? 0).toBe(0)
      expect(counts.byErrorCode['AccessDeniedException'] ?? 0).toBe(0)
    } finally {
      await emulator.close()
    }
  })
})

describe('a central stack older than this release, or deployed for other inputs', () => {
  it('is reported with the exact command that fixes it, and the run goes on', async () => {
    // Version 1 of the template had no TemplateVersion output; this one was deployed for check.
    const body = readFileSync(join(CFN_DIR, 'central-github-oidc.yaml'), 'utf8')
    const versionOne = body.slice(0, body.indexOf('  TemplateVersion:'))
    const emulator = await startEmulator({
      world: world(MANAGEMENT, {
        bootstrap: {
          central: { DeployStacks: 'check', SenderEmail: SENDER, IncludeManagementAccount: 'true' },
          templates: { 'central-github-oidc.yaml': versionOne }
        }
      })
    })
    const tokens = await startOidcTokenServer(auditClaims())
    try {
      const run = await rotate(emulator, tokens, MANAGEMENT, {
        mode: 'audit',
        'audit-role-to-assume': auditRole(MANAGEMENT),
        accounts: MANAGEMENT, // the member account gets its role from the StackSet, not here
        'deploy-stacks': 'check',
        'central-stack-name': 'iam-key-rotation-central'
      })
      expect(run.exitCode, run.stdout).toBe(0)
      const [central] = run.plan?.deployment?.centralStacks ?? []
      expect(central?.problems).toEqual([
        'deployed from cfn/central-github-oidc.yaml version 1 (no TemplateVersion output); this release needs version 6'
      ])
      // The deployed parameters are kept, the inputs' own values win.
      expect(central?.fix).toBe(
        'aws cloudformation deploy --stack-name iam-key-rotation-central --template-file cfn/central-github-oidc.yaml --capabilities CAPABILITY_NAMED_IAM --region us-east-1 --parameter-overrides ' +
          [
            'Audience=sts.amazonaws.com',
            'AuditMemberRoleName=iam-key-rotation-member-audit',
            'CentralRoleName=iam-key-rotation-central',
            'DeployStacks=check',
            'GitHubBranch=main',
            'GitHubOrg=example-org',
            'GitHubRepo=key-rotation',
            'IncludeManagementAccount=true',
            'ListAccountsRoleName=iam-key-rotation-list-accounts',
            'ManagementAccountId=111111111111',
            'MemberRoleName=iam-key-rotation-member',
            'OrganizationId=o-a1b2c3d4e5',
            `SenderEmail=${SENDER}`,
            'StackSetName=iam-key-rotation-member'
          ].join(' ')
      )
      expect(run.summary).toContain('this release needs version 6')
      expect(run.summary).toContain(
        'aws cloudformation deploy --stack-name iam-key-rotation-central'
      )
      // deploy-stacks: apply would need DeployStacks=apply: the same report says so.
      const apply = await rotate(emulator, tokens, MANAGEMENT, {
        mode: 'audit',
        'audit-role-to-assume': auditRole(MANAGEMENT),
        accounts: MANAGEMENT,
        'deploy-stacks': 'apply',
        'central-stack-name': 'iam-key-rotation-central'
      })
      expect(apply.plan?.deployment?.centralStacks?.[0]?.problems).toContain(
        'parameter DeployStacks is "check", the inputs need "apply"'
      )
    } finally {
      await tokens.close()
      await emulator.close()
    }
  })
})

describe('a central stack changed by hand', () => {
  it('is reported as drifted, found by drift detection the central role may run on itself', async () => {
    const emulator = await startEmulator({ world: world(MANAGEMENT) })
    const tokens = await startOidcTokenServer(auditClaims())
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: emulator.url,
      credentials: rootCredentials(MANAGEMENT)
    })
    try {
      // The inputs the stack was deployed for (audit mode makes apply a check).
      const inputs = {
        mode: 'audit',
        'audit-role-to-assume': auditRole(MANAGEMENT),
        accounts: MANAGEMENT,
        'deploy-stacks': 'apply',
        'central-stack-name': 'iam-key-rotation-central'
      }
      const clean = await rotate(emulator, tokens, MANAGEMENT, inputs)
      expect(clean.plan?.deployment?.centralStacks?.[0]).toMatchObject({ drift: 'IN_SYNC' })
      // Someone widens the central role by hand.
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: 'iam-key-rotation-central',
          PolicyName: 'added-by-hand',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }]
          })
        })
      )
      const drifted = await rotate(emulator, tokens, MANAGEMENT, inputs)
      expect(drifted.exitCode, drifted.stdout).toBe(0)
      const [central] = drifted.plan?.deployment?.centralStacks ?? []
      expect(central?.drift).toBe('DRIFTED')
      expect(central?.problems).toEqual([
        '1 of its resources were changed outside CloudFormation (aws cloudformation describe-stack-resource-drifts --stack-name iam-key-rotation-central shows how); undo the change, or redeploy it on purpose'
      ])
      expect(drifted.summary).toContain('drift DRIFTED')
    } finally {
      iam.destroy()
      await tokens.close()
      await emulator.close()
    }
  })
})

describe('the secrets key stack (secrets-location: central)', () => {
  it('is read by the secrets role and compared with this release and with kms-key-id', async () => {
    const SECRETS = '888888888888'
    const base = world(MANAGEMENT)
    const emulator = await startEmulator({
      world: {
        ...base,
        bootstrap: {
          central: { DeployStacks: 'check', SenderEmail: SENDER, IncludeManagementAccount: 'true' },
          secretsKey: { accountId: SECRETS }
        },
        accounts: [...(base.accounts ?? []), { id: SECRETS, name: 'security', memberRole: true }]
      }
    })
    const tokens = await startOidcTokenServer()
    const key =
      emulator
        .state(SECRETS)
        .accounts[0]?.stacks.find(stack => stack.name === 'iam-key-rotation-secrets-key')?.outputs[
        'KeyArn'
      ] ?? ''
    // Either chain reads the stack: the write chain's member role and the audit member role.
    const check = (kmsKeyId: string, chain: 'write' | 'read-only') => {
      // The write role in its environment, the audit role on the branch outside it.
      tokens.setClaims(chain === 'write' ? DEFAULT_CLAIMS : auditClaims())
      return rotate(emulator, tokens, MANAGEMENT, {
        mode: 'audit',
        ...(chain === 'read-only' ? { 'audit-role-to-assume': auditRole(MANAGEMENT) } : {}),
        accounts: MANAGEMENT,
        'deploy-stacks': 'check',
        'secrets-location': 'central',
        'secrets-account-id': SECRETS,
        'kms-key-id': kmsKeyId,
        'secrets-key-stack-name': 'iam-key-rotation-secrets-key'
      })
    }
    try {
      const run = await check(key, 'write')
      expect(run.exitCode, run.stdout).toBe(0)
      // An audit does not need the write chain, and says so.
      expect(run.stdout).toContain(
        '::warning::This audit signs in with the write role (role-to-assume), which can rotate and delete keys'
      )
      expect(run.plan?.deployment?.centralStacks).toEqual([
        { name: 'iam-key-rotation-secrets-key', status: 'CREATE_COMPLETE', templateVersion: '6' }
      ])
      const other = `arn:aws:kms:us-east-1:${SECRETS}:key/00000000-0000-4000-8000-000000000000`
      const wrong = await check(other, 'read-only')
      expect(wrong.plan?.deployment?.centralStacks?.[0]?.problems).toEqual([
        `its output KeyArn is "${key}" but input kms-key-id is "${other}": set kms-key-id to it`
      ])
    } finally {
      await tokens.close()
      await emulator.close()
    }
  })
})

describe.concurrent(
  'negative controls: without one grant, its call is denied and the fix named',
  () => {
    let tokens: OidcTokenServer
    beforeAll(async () => {
      tokens = await startOidcTokenServer()
    })
    afterAll(() => tokens.close())

    /** The member role comes from the bootstrap stack here, so its template is the one changed. */
    function memberWorld(templates: Record<string, string>): World {
      const base = world(MANAGEMENT)
      return {
        ...base,
        bootstrap: { ...base.bootstrap, templates },
        accounts: (base.accounts ?? []).map(account => ({ ...account, memberRole: true }))
      }
    }

    it("the member role's iam:CreateAccessKey", async () => {
      const emulator = await startEmulator({
        world: memberWorld({
          'member-role.yaml': withoutLine('member-role.yaml', '- iam:CreateAccessKey')
        })
      })
      try {
        const run = await rotate(emulator, tokens, MANAGEMENT, { 'deploy-stacks': 'off' })
        expect(run.exitCode).toBe(1)
        const rotations = planActions(run.plan!).filter(a => a.type === 'ROTATE')
        expect(rotations.map(a => a.result)).toEqual(['failed', 'failed'])
        const error =
          run.plan!.accounts.flatMap(a => a.users.flatMap(u => u.actions))[0]?.error ?? ''
        expect(error).toContain(
          'is not authorized to perform: iam:CreateAccessKey on resource: arn:aws:iam::'
        )
        expect(error).toContain('Fix: the member role "iam-key-rotation-member"')
        expect(error).toContain('cfn/member-role.yaml version 6')
      } finally {
        await emulator.close()
      }
    })

    it("the list-accounts role's organizations:ListAccounts", async () => {
      const emulator = await startEmulator({
        world: world(MANAGEMENT, {
          bootstrap: {
            ...world(MANAGEMENT).bootstrap,
            templates: {
              'management-list-accounts-role.yaml': withoutLine(
                'management-list-accounts-role.yaml',
                '- organizations:ListAccounts'
              )
            }
          }
        })
      })
      try {
        const run = await rotate(emulator, tokens, MANAGEMENT)
        expect(run.exitCode).toBe(1)
        expect(run.stdout).toMatch(
          /::error::.*You don't have permissions to access this resource\. Fix: most likely the list-accounts role "iam-key-rotation-list-accounts" lacks organizations:ListAccounts: deploy cfn\/management-list-accounts-role\.yaml version 6/
        )
      } finally {
        await emulator.close()
      }
    })

    it("the central role's sts:AssumeRole on the member role", async () => {
      const emulator = await startEmulator({
        world: world(MANAGEMENT, {
          bootstrap: {
            ...world(MANAGEMENT).bootstrap,
            templates: {
              'central-github-oidc.yaml': withoutLine(
                'central-github-oidc.yaml',
                "- !Sub 'arn:${AWS::Partition}:iam::*:role/${MemberRoleName}'"
              )
            }
          }
        })
      })
      try {
        const run = await rotate(emulator, tokens, MANAGEMENT)
        expect(run.exitCode).toBe(1)
        // Within one account a trust that names the central role is enough, as in IAM: only the
        // member account, where the central role's own policy must allow it too, fails.
        const failures = run.plan!.accounts.filter(a => a.status === 'failed')
        expect(failures.map(a => a.accountId)).toEqual([PROD])
        for (const account of failures) {
          expect(account.error).toContain(
            'is not authorized to perform: sts:AssumeRole on resource:'
          )
          expect(account.error).toContain(
            "or the central role's own policy does not allow sts:AssumeRole on it (deploy cfn/central-github-oidc.yaml version 6"
          )
        }
      } finally {
        await emulator.close()
      }
    })

    it('a trust whose sub does not match the token', async () => {
      const emulator = await startEmulator({ world: world(MANAGEMENT) })
      const stranger = await startOidcTokenServer({
        sub: 'repo:example-org/key-rotation:ref:refs/heads/feature',
        ref: 'refs/heads/feature'
      })
      try {
        const run = await rotate(emulator, stranger, MANAGEMENT)
        expect(run.exitCode).toBe(1)
        expect(run.stdout).toMatch(
          /::error::.*Could not assume arn:aws:iam::111111111111:role\/iam-key-rotation-central with the GitHub OIDC token: Not authorized to perform sts:AssumeRoleWithWebIdentity/
        )
        expect(emulator.requestCounts().byOperation['sts:AssumeRoleWithWebIdentity']).toBe(1)
        expect(emulator.requestCounts().total).toBe(1)
      } finally {
        await stranger.close()
        await emulator.close()
      }
    })
  }
)
