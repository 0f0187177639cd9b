import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deployStacks } from '../../src/deploy/index.js'
import { FakeCloudFormation } from '../deploy/fake-cloudformation.js'
import { startEmulator, type Emulator, type World } from '../emulator/index.js'
import {
  ORG,
  planActions,
  runAgainstEmulator,
  type EmulatedRun
} from '../support/emulated-action.js'
import { asDeployed, memberTemplate } from '../support/emulator-clients.js'
import { warningLines } from '../support/run-action.js'

const MANAGEMENT = '111111111111'
const PROD = '222222222222'
const DEV = '333333333333'
const STACK_SET = 'iam-key-rotation-member'
const CENTRAL_ROLE = `arn:aws:iam::${MANAGEMENT}:role/iam-key-rotation-central`

/**
 * An organization after the documented bootstrap only: the central role (the emulator's ambient
 * caller), the list-accounts role and the member role deployed as a stack in the management
 * account. The member accounts have no role yet: only the StackSet can give them one.
 */
function freshWorld(overrides: Partial<World> = {}): World {
  return {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: MANAGEMENT,
    listAccountsRole: true,
    // The central role as deployed for a workflow with deploy-stacks: apply.
    bootstrap: { central: { DeployStacks: 'apply' } },
    accounts: [
      { id: MANAGEMENT, name: 'management', email: 'mgmt@example.com', memberRole: true },
      {
        id: PROD,
        name: 'prod',
        email: 'prod@example.com',
        users: [{ name: 'app', keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 1 }] }]
      },
      {
        id: DEV,
        name: 'dev',
        email: 'dev@example.com',
        users: [{ name: 'ci', keys: [{ status: 'Active', ageDays: 91, lastUsedDaysAgo: 2 }] }]
      }
    ],
    ...overrides
  }
}

/** The same organization with every member role deployed by the StackSet, from `templateBody`. */
function deployedWorld(templateBody?: string): World {
  const world = freshWorld()
  return asDeployed(
    {
      ...world,
      accounts: (world.accounts ?? []).map(account => ({ ...account, memberRole: true }))
    },
    templateBody
  )
}

/** cfn/member-role.yaml with a change that grants nothing less: a different role description. */
function driftedTemplate(): string {
  const current = memberTemplate()
  const drifted = current.replace(
    'Description: Assumed by the iam-key-rotation GitHub Action to rotate IAM user access keys.',
    'Description: Deployed by hand, long ago.'
  )
  expect(drifted).not.toBe(current)
  return drifted
}

/** cfn/member-role.yaml as it was before the engine needed GetAccountAuthorizationDetails. */
function olderTemplate(): string {
  const current = memberTemplate()
  const older = current.replace(/^\s+- iam:GetAccountAuthorizationDetails\n/m, '')
  expect(older).not.toBe(current)
  return older
}

/** CloudFormation calls that change something, by operation. */
function cloudFormationWrites(emulator: Emulator): Record<string, number> {
  return Object.fromEntries(
    Object.entries(emulator.requestCounts().byOperation).filter(([operation]) =>
      /^cloudformation:(Create|Update|Delete)/.test(operation)
    )
  )
}

function stackSets(emulator: Emulator) {
  return emulator.state(MANAGEMENT).accounts.find(a => a.id === MANAGEMENT)?.stackSets ?? []
}

function memberRole(emulator: Emulator, accountId: string) {
  return emulator
    .state(accountId)
    .accounts.find(a => a.id === accountId)
    ?.roles.find(role => role.name === 'iam-key-rotation-member')
}

// The scenarios are independent (each has its own emulator) and spend their time in child
// processes: they run side by side. The steps within a scenario run in order.
describe.concurrent('the deploy phase through dist/index.js', () => {
  describe('deploy-stacks: apply on a fresh organization', () => {
    let emulator: Emulator
    let first: EmulatedRun
    beforeAll(async () => {
      emulator = await startEmulator({ world: freshWorld() })
      expect(memberRole(emulator, PROD)).toBeUndefined()
      first = await runAgainstEmulator(emulator, {
        ...ORG,
        mode: 'enforce',
        'deploy-stacks': 'apply'
      })
    })
    afterAll(() => emulator.close())

    it.sequential('creates the StackSet and rotates in every account in the same run', () => {
      expect(first.exitCode, first.stdout).toBe(0)
      expect(first.plan?.deployment).toMatchObject({
        mode: 'apply',
        stackSetName: STACK_SET,
        status: 'created',
        missingInstances: [],
        failedInstances: []
      })
      expect(cloudFormationWrites(emulator)).toEqual({
        'cloudformation:CreateStackSet': 1,
        'cloudformation:CreateStackInstances': 1
      })
      for (const account of [PROD, DEV]) {
        expect(memberRole(emulator, account)?.trustedPrincipals).toEqual([CENTRAL_ROLE])
      }
      // The management account is out of scope by default (include-management-account).
      expect(first.plan?.accounts.map(a => [a.accountId, a.status])).toEqual([
        [PROD, 'ok'],
        [DEV, 'ok']
      ])
      expect(first.stdout).toContain(
        `The management account ${MANAGEMENT} is out of scope (include-management-account: false)`
      )
      expect(
        planActions(first.plan!)
          .map(a => [a.account, a.user, a.type, a.result])
          .sort()
      ).toEqual(
        [
          [PROD, 'app', 'ROTATE', 'done'],
          [DEV, 'ci', 'ROTATE', 'done']
        ].sort()
      )
      // Each new key is in its secret, ready for the user.
      for (const [account, userName] of [
        [PROD, 'app'],
        [DEV, 'ci']
      ] as const) {
        const rotate = first.plan?.accounts
          .find(a => a.accountId === account)
          ?.users.find(u => u.userName === userName)
          ?.actions.find(a => a.type === 'ROTATE')
        const secret = emulator
          .state(account)
          .accounts.find(a => a.id === account)
          ?.secrets.find(s => s.name === `iam-key-rotation/${account}/${userName}`)
        const stored = JSON.parse(
          secret?.versions.find(v => v.stages.includes('AWSCURRENT'))?.secretString ?? '{}'
        ) as Record<string, string>
        expect(stored.AccessKeyId).toBe(rotate?.newAccessKeyId)
        // The StackSet also created the read-own-secret policy, so nothing was left to follow up.
        expect(rotate?.error).toBeUndefined()
      }
      // Progress of the wait, then its end, in the log.
      expect(first.stdout).toMatch(/operation \S+ RUNNING \(0 s waited\)/)
      expect(first.stdout).toMatch(/operation \S+ succeeded/)
      expect(first.summary).toMatch(/StackSet \*\*iam-key-rotation-member\*\*: created\./)
    })

    it.sequential('changes nothing on the second run', async () => {
      const before = stackSets(emulator)
      const second = await runAgainstEmulator(emulator, {
        ...ORG,
        mode: 'enforce',
        'deploy-stacks': 'apply'
      })
      expect(second.exitCode, second.stdout).toBe(0)
      expect(second.plan?.deployment).toMatchObject({
        mode: 'apply',
        status: 'current',
        differences: [],
        missingInstances: []
      })
      expect(cloudFormationWrites(emulator)).toEqual({
        'cloudformation:CreateStackSet': 1,
        'cloudformation:CreateStackInstances': 1
      })
      expect(stackSets(emulator)).toEqual(before)
      expect(planActions(second.plan!).filter(a => a.result === 'done')).toEqual([])
    })
  })

  describe('deploy-stacks: check on a drifted StackSet', () => {
    it('reports the drift in the summary and the plan and changes nothing', async () => {
      const emulator = await startEmulator({ world: deployedWorld(driftedTemplate()) })
      try {
        const before = stackSets(emulator)
        const run = await runAgainstEmulator(emulator, {
          ...ORG,
          mode: 'enforce',
          'deploy-stacks': 'check'
        })
        expect(run.exitCode, run.stdout).toBe(0)
        expect(run.plan?.deployment).toMatchObject({
          mode: 'check',
          stackSetName: STACK_SET,
          status: 'drifted',
          differences: [expect.stringMatching(/^template: Resources\.MemberRole changed$/)],
          missingInstances: [],
          failedInstances: []
        })
        expect(run.summary).toContain('## Member-role StackSet (check)')
        expect(run.summary).toContain('StackSet **iam-key-rotation-member**: drifted.')
        expect(run.summary).toContain('- template: Resources.MemberRole changed')
        expect(warningLines(run).join('\n')).toMatch(
          /differs from cfn\/member-role\.yaml .*deploy-stacks: apply \(with mode: enforce\) updates it/
        )
        expect(cloudFormationWrites(emulator)).toEqual({})
        expect(stackSets(emulator)).toEqual(before)
        // The rotation itself goes on.
        expect(planActions(run.plan!).filter(a => a.result === 'done')).toHaveLength(2)
      } finally {
        await emulator.close()
      }
    })

    it('acts as check in audit mode even with deploy-stacks: apply, and says so', async () => {
      const emulator = await startEmulator({ world: deployedWorld(driftedTemplate()) })
      try {
        const run = await runAgainstEmulator(emulator, { ...ORG, 'deploy-stacks': 'apply' })
        expect(run.exitCode, run.stdout).toBe(0)
        expect(run.plan?.deployment).toMatchObject({ mode: 'check', status: 'drifted' })
        expect(run.plan?.deployment?.messages).toContainEqual(
          expect.stringMatching(/deploy-stacks is "apply" but mode is "audit": only checking/)
        )
        expect(run.summary).toMatch(
          /only checking StackSet iam-key-rotation-member; nothing is changed/
        )
        expect(cloudFormationWrites(emulator)).toEqual({})
      } finally {
        await emulator.close()
      }
    })

    it('updates the drifted StackSet with apply in enforce mode', async () => {
      const emulator = await startEmulator({ world: deployedWorld(driftedTemplate()) })
      try {
        const run = await runAgainstEmulator(emulator, {
          ...ORG,
          mode: 'enforce',
          'deploy-stacks': 'apply'
        })
        expect(run.exitCode, run.stdout).toBe(0)
        expect(run.plan?.deployment).toMatchObject({ mode: 'apply', status: 'updated' })
        expect(cloudFormationWrites(emulator)).toEqual({ 'cloudformation:UpdateStackSet': 1 })
        const again = await runAgainstEmulator(emulator, { ...ORG, 'deploy-stacks': 'check' })
        expect(again.plan?.deployment).toMatchObject({ status: 'current', differences: [] })
      } finally {
        await emulator.close()
      }
    })
  })

  describe('a deployed member role that lacks a permission this release needs', () => {
    it('fails each account with the missing action and the fix, and apply repairs it', async () => {
      const emulator = await startEmulator({ world: deployedWorld(olderTemplate()) })
      try {
        const check = await runAgainstEmulator(emulator, {
          ...ORG,
          mode: 'enforce',
          'deploy-stacks': 'check'
        })
        expect(check.exitCode).toBe(1)
        const failure = check.plan?.accounts.find(a => a.accountId === PROD)?.error ?? ''
        expect(failure).toContain(
          'is not authorized to perform: iam:GetAccountAuthorizationDetails on resource: *'
        )
        expect(failure).toContain(
          'Fix: the member role "iam-key-rotation-member" in account 222222222222 lacks iam:GetAccountAuthorizationDetails: update it to cfn/member-role.yaml version 6'
        )
        expect(warningLines(check).join('\n')).toContain('deploy-stacks: apply')
        const apply = await runAgainstEmulator(emulator, {
          ...ORG,
          mode: 'enforce',
          'deploy-stacks': 'apply'
        })
        expect(apply.exitCode, apply.stdout).toBe(0)
        expect(planActions(apply.plan!).filter(a => a.result === 'done')).toHaveLength(2)
      } finally {
        await emulator.close()
      }
    })
  })

  describe('a stack instance that fails', () => {
    it('is reported, and only its account fails', async () => {
      const emulator = await startEmulator({
        world: freshWorld({ cloudformation: { failInstanceAccounts: [DEV] } })
      })
      try {
        const run = await runAgainstEmulator(emulator, {
          ...ORG,
          mode: 'enforce',
          'deploy-stacks': 'apply'
        })
        expect(run.exitCode).not.toBe(0)
        const deployment = run.plan?.deployment
        expect(deployment?.failedInstances).toEqual([
          { account: DEV, region: 'us-east-1', reason: expect.any(String) as string }
        ])
        expect(deployment?.missingInstances).toEqual([DEV])
        expect(run.summary).toMatch(new RegExp(`Stack instance in ${DEV} us-east-1 failed`))
        expect(warningLines(run).join('\n')).toMatch(
          new RegExp(`the stack instance in ${DEV} \\(us-east-1\\) failed`)
        )
        expect(run.outputs['failed-accounts']).toBe(DEV)
        expect(planActions(run.plan!).find(a => a.account === PROD)).toMatchObject({
          type: 'ROTATE',
          result: 'done'
        })
      } finally {
        await emulator.close()
      }
    })
  })
})

describe('waiting for a StackSet operation', () => {
  it('polls after 1 s, then backs off to 15 s, and stops at the time limit', async () => {
    const cfn = new FakeCloudFormation({ 'r-a1b2': [PROD, DEV] })
    cfn.runningDescribes = 1000
    const sleeps: number[] = []
    const warnings: string[] = []
    const report = await deployStacks(
      cfn.client,
      {
        mode: 'apply',
        enforce: true,
        stackSetName: STACK_SET,
        deploymentOus: ['r-a1b2'],
        stackSetRegions: ['us-east-1'],
        templateDir: join(import.meta.dirname, '..', '..', 'cfn'),
        parameters: {
          MemberRoleName: 'iam-key-rotation-member',
          CentralRoleArn: CENTRAL_ROLE,
          OrganizationId: 'o-a1b2c3d4e5'
        },
        accountsInScope: [PROD, DEV],
        wait: {
          timeoutMs: 60_000,
          sleep: ms => {
            sleeps.push(ms)
            return Promise.resolve()
          }
        }
      },
      { info: () => undefined, warning: message => warnings.push(message) }
    )
    expect(sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000])
    expect(report.operations).toEqual([expect.objectContaining({ timedOut: true })])
    expect(warnings).toContainEqual(expect.stringMatching(/still RUNNING after 60 s/))
  })
})
