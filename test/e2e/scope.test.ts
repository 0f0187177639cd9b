import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type World } from '../emulator/index.js'
import { ORG, runAgainstEmulator, type EmulatedRun } from '../support/emulated-action.js'
import { asDeployed, demoWorld } from '../support/emulator-clients.js'
import { errorLines, warningLines } from '../support/run-action.js'

/**
 * Scope said out loud, through dist/index.js: ids the organization does not have are named
 * (a warning while something is left in scope, an error before any account when nothing is),
 * and accounts that are not ACTIVE are listed as skipped with their state, never dropped.
 */

const DEV_OU = 'ou-a1b2-dev3k7m2'
const NO_SUCH_OU = 'ou-a1b2-n0tth3r3'
const NO_SUCH_ACCOUNT = '999999999999'
const SUSPENDED = '666666666666'
const CLOSING = '555555555555'

/** The demo organization, with the vendor account being closed (PENDING_CLOSURE). */
function world(): World {
  const demo = asDeployed(demoWorld())
  return {
    ...demo,
    accounts: (demo.accounts ?? []).map(account =>
      account.id === CLOSING ? { ...account, status: 'PENDING_CLOSURE' as const } : account
    )
  }
}

/** IAM requests the run made: any means an account was processed. */
function iamRequests(emulator: Emulator): string[] {
  return emulator
    .requests()
    .filter(request => request.service === 'iam')
    .map(request => `${request.account ?? ''} ${request.operation}`)
}

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ world: world() })
})
afterAll(async () => {
  await emulator.close()
})
beforeEach(() => {
  emulator.loadWorld(world())
})

describe('organizational-units and deployment-ous', () => {
  it('names an unknown OU and goes on with the others; the plan and summary are written', async () => {
    const run = await runAgainstEmulator(emulator, {
      ...ORG,
      'organizational-units': `${DEV_OU}, ${NO_SUCH_OU}`
    })
    expect(run.exitCode, run.stdout).toBe(0)
    const warning = `organizational-units: ${NO_SUCH_OU} is neither a root nor an OU of o-a1b2c3d4e5`
    expect(warningLines(run).join('\n')).toContain(warning)
    expect(run.plan?.warnings.join('\n')).toContain(warning)
    expect(run.summary).toContain(NO_SUCH_OU)
    expect(run.plan?.accounts.map(account => account.accountId)).toEqual(['333333333333'])
  })

  it('stops before any account when no OU in organizational-units exists', async () => {
    const run = await runAgainstEmulator(emulator, {
      ...ORG,
      'organizational-units': NO_SUCH_OU
    })
    expect(run.exitCode).toBe(1)
    expect(errorLines(run).join('\n')).toMatch(
      new RegExp(
        `organizational-units: ${NO_SUCH_OU} is neither a root nor an OU of o-a1b2c3d4e5.*nothing is in scope, so no account was processed`
      )
    )
    expect(iamRequests(emulator)).toEqual([])
  })

  it('names an unknown deployment-ous id and checks the StackSet against the others', async () => {
    const run = await runAgainstEmulator(emulator, {
      ...ORG,
      'deploy-stacks': 'check',
      'deployment-ous': `r-a1b2, ${NO_SUCH_OU}`
    })
    expect(run.exitCode, run.stdout).toBe(0)
    const warning = `deployment-ous: ${NO_SUCH_OU} is neither a root nor an OU of o-a1b2c3d4e5`
    expect(warningLines(run).join('\n')).toContain(warning)
    expect(run.plan?.deployment?.messages.join('\n')).toContain(warning)
    // The known root is deployed to: no "has no stack instances" for it.
    expect(run.plan?.deployment?.differences).toEqual([])
    expect(run.summary).toContain(NO_SUCH_OU)
  })

  it('stops before any account when no deployment-ous id exists', async () => {
    const run = await runAgainstEmulator(emulator, {
      ...ORG,
      'deploy-stacks': 'check',
      'deployment-ous': NO_SUCH_OU
    })
    expect(run.exitCode).toBe(1)
    expect(errorLines(run).join('\n')).toMatch(
      new RegExp(
        `deployment-ous: ${NO_SUCH_OU} is neither a root nor an OU .*no account was processed`
      )
    )
    expect(iamRequests(emulator)).toEqual([])
  })
})

describe('accounts and exclude-accounts', () => {
  it('names an excluded id that is not an account, as it does for accounts', async () => {
    const run = await runAgainstEmulator(emulator, {
      ...ORG,
      accounts: `333333333333, ${NO_SUCH_ACCOUNT}`,
      'exclude-accounts': `444444444444, 888888888888`
    })
    expect(run.exitCode, run.stdout).toBe(0)
    const warnings = warningLines(run).join('\n')
    expect(warnings).toContain(
      `Account ${NO_SUCH_ACCOUNT} (input accounts) is not an account of o-a1b2c3d4e5`
    )
    expect(warnings).toContain(
      'Account 888888888888 (input exclude-accounts) is not an account of o-a1b2c3d4e5'
    )
    expect(warnings).not.toContain('444444444444')
    expect(run.plan?.warnings.join('\n')).toContain('888888888888 (input exclude-accounts)')
  })

  it('stops before any account when no id in accounts is an account of the organization', async () => {
    const run = await runAgainstEmulator(emulator, { ...ORG, accounts: NO_SUCH_ACCOUNT })
    expect(run.exitCode).toBe(1)
    expect(errorLines(run).join('\n')).toContain(
      `No id in accounts is an account of o-a1b2c3d4e5 (${NO_SUCH_ACCOUNT}): nothing is in scope, so no account was processed.`
    )
    expect(iamRequests(emulator)).toEqual([])
  })
})

describe('accounts that are not ACTIVE', () => {
  let run: EmulatedRun
  beforeEach(async () => {
    run = await runAgainstEmulator(emulator, { ...ORG })
  })

  it('are in the plan as skipped with their state, and never signed in to', () => {
    expect(run.exitCode, run.stdout).toBe(0)
    const skipped = run.plan?.accounts.filter(account => account.status === 'skipped')
    expect(skipped?.map(a => [a.accountId, a.reason])).toEqual([
      [CLOSING, 'PENDING_CLOSURE'],
      [SUSPENDED, 'SUSPENDED']
    ])
    expect(skipped?.[1]?.error).toMatch(/SUSPENDED in AWS Organizations: it is not signed in to/)
    expect(run.plan?.totals).toMatchObject({ skippedAccounts: 2, failedAccounts: 0 })
    const touched = emulator
      .requests()
      .filter(r => r.account === SUSPENDED || r.account === CLOSING)
    expect(touched).toEqual([])
  })

  it('are counted in the log line, the summary, plan.csv and keys.csv', () => {
    expect(run.stdout).toMatch(
      /3 active accounts in scope, 2 skipped \(1 pending closure, 1 suspended\); 6 accounts in o-a1b2c3d4e5\./
    )
    expect(run.summary).toContain('**5 accounts** (2 skipped)')
    expect(run.summary).toContain(
      '<b>2 accounts skipped:</b> 1 pending closure, 1 suspended</summary>'
    )
    const dir = run.outputs['report-dir'] ?? ''
    expect(readFileSync(join(dir, 'plan.md'), 'utf8')).toMatch(
      new RegExp(`- \\*\\*${SUSPENDED}\\*\\* legacy-closed: the account is SUSPENDED`)
    )
    const csv = (name: string) =>
      parse<Record<string, string>>(readFileSync(join(dir, name), 'utf8'), { columns: true })
    expect(
      csv('plan.csv')
        .filter(row => row.result === 'skipped')
        .map(row => [row.accountId, row.reason])
    ).toEqual([
      [CLOSING, 'PENDING_CLOSURE'],
      [SUSPENDED, 'SUSPENDED']
    ])
    const keys = csv('keys.csv').filter(row => row.accountId === SUSPENDED)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatchObject({ withinPolicy: 'unknown', accessKeyId: '' })
    expect(keys[0]?.note).toMatch(/^skipped: the account is SUSPENDED/)
  })
})
