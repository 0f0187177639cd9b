import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { Plan } from '../../src/plan/types.js'
import { startEmulator, type World } from '../emulator/index.js'
import { FakeGitHub } from '../issues/fake-github.js'
import { ORG, planActions, runAgainstEmulator } from '../support/emulated-action.js'
import { errorLines } from '../support/run-action.js'

const TOKEN = 'loopback-github-token-for-tests'

/** dev: one key to rotate. prod: `blocked` users whose rotation is blocked (two active keys). */
function world(blocked: number): World {
  return {
    organizationId: 'o-a1b2c3d4e5',
    managementAccountId: '111111111111',
    listAccountsRole: true,
    accounts: [
      { id: '111111111111', name: 'management', email: 'mgmt@example.com', memberRole: true },
      {
        id: '222222222222',
        name: 'dev',
        email: 'dev@example.com',
        memberRole: true,
        users: [{ name: 'app', keys: [{ status: 'Active', ageDays: 95, lastUsedDaysAgo: 1 }] }]
      },
      {
        id: '333333333333',
        name: 'prod',
        email: 'prod@example.com',
        memberRole: true,
        users: Array.from({ length: blocked }, (_, i) => ({
          name: `bot-${String(i).padStart(2, '0')}`,
          keys: [
            { status: 'Active' as const, ageDays: 120, lastUsedDaysAgo: 1 },
            { status: 'Active' as const, ageDays: 20, lastUsedDaysAgo: 0 }
          ]
        }))
      }
    ]
  }
}

function readPlan(workDir: string): Plan {
  return JSON.parse(readFileSync(join(workDir, 'key-rotation-report', 'plan.json'), 'utf8')) as Plan
}

describe.concurrent('a run cut short in its issue phase, through dist/index.js', () => {
  /** An emulator and a GitHub whose every answer takes a second: the issue phase is slow. */
  async function scenario() {
    const emulator = await startEmulator({ world: world(3) })
    const github = new FakeGitHub()
    github.latencyMs = 1_000
    await github.start()
    return {
      emulator,
      github,
      env: { GITHUB_API_URL: github.baseUrl, GITHUB_REPOSITORY: `${github.owner}/${github.repo}` },
      close: async () => {
        await github.stop()
        await emulator.close()
      }
    }
  }
  const inputs = { ...ORG, mode: 'enforce', 'open-issues': 'true', 'github-token': TOKEN }
  const rotatedInPlan = (plan: Plan) =>
    planActions(plan).filter(action => action.type === 'ROTATE' && action.result === 'done')

  it('killed (SIGKILL): the plan and summary written before the issues list every change made', async () => {
    const { emulator, github, env, close } = await scenario()
    onTestFinished(close)
    const run = await runAgainstEmulator(emulator, inputs, {
      env,
      killWhen: github.requestArrives('POST', /\/issues$/)
    })
    expect(run.killed).toBe(true)
    expect(run.exitCode).toBe(137)
    const plan = readPlan(run.workDir)
    expect(planActions(plan), run.stdout).toContainEqual(
      expect.objectContaining({ type: 'ROTATE' })
    )
    expect(rotatedInPlan(plan)).toEqual([
      expect.objectContaining({ account: '222222222222', user: 'app' })
    ])
    // The key really was rotated: the plan is the record of it.
    const app = emulator.state('222222222222').accounts[0]?.users.find(user => user.name === 'app')
    expect(app?.keys).toHaveLength(2)
    expect(plan.totals.rotated).toBe(1)
    expect(plan.issues).toBeUndefined()
    expect(existsSync(join(run.workDir, 'key-rotation-report', 'plan.md'))).toBe(true)
    expect(existsSync(join(run.workDir, 'key-rotation-report', 'plan.csv'))).toBe(true)
    expect(run.summary).toContain('# IAM access key rotation: enforce')
    expect(run.summary).toContain('**2 accounts** · 4 users · 7 keys scanned')
    expect(run.summary).toMatch(/^\| 🔄 ROTATE \| \w+ \| 1 \| 1 done \| now \|$/m)
  })

  it('stopped (SIGTERM, as a timeout): writes the plan, summary and outputs with where it stopped, starts no further issue', async () => {
    const { emulator, github, env, close } = await scenario()
    onTestFinished(close)
    const run = await runAgainstEmulator(emulator, inputs, {
      env,
      killWhen: github.requestArrives('POST', /\/issues$/),
      killSignal: 'SIGTERM'
    })
    expect(run.killed).toBe(true)
    expect(run.exitCode).toBe(1)
    expect(run.plan?.interrupted).toMatchObject({
      signal: 'SIGTERM',
      phase: 'issues',
      accountsNotReached: 0
    })
    expect(rotatedInPlan(run.plan!)).toHaveLength(1)
    expect(errorLines(run).join('\n')).toContain(
      'The run was stopped (SIGTERM) during issues; the plan lists what it did until then.'
    )
    expect(run.summary).toContain('**Stopped early:** the run received SIGTERM during issues')
    expect(run.outputs.rotated).toBe('1')
    // The issue being opened when the signal came may land; no other is started.
    expect(github.issues.length).toBeLessThanOrEqual(1)
  })
})

describe('a run stopped in its apply phase, through dist/index.js', () => {
  it('waits a few seconds for the call in flight, then writes the account as it stands', async () => {
    const emulator = await startEmulator({ world: world(0) })
    onTestFinished(() => emulator.close())
    // CreateAccessKey is carried out but never answered: the run hangs in apply when stopped.
    const hung = emulator.crashAfter({ operation: 'CreateAccessKey' })
    const run = await runAgainstEmulator(
      emulator,
      { ...ORG, mode: 'enforce' },
      { killWhen: hung, killSignal: 'SIGTERM' }
    )
    expect(run.exitCode, run.stdout).toBe(1)
    expect(run.plan?.interrupted).toMatchObject({ signal: 'SIGTERM', phase: 'apply' })
    const rotate = run.plan?.accounts
      .flatMap(account => account.users.flatMap(user => user.actions))
      .find(action => action.type === 'ROTATE')
    expect(rotate).toMatchObject({
      result: 'skipped',
      error: expect.stringContaining(
        'not finished: the run was stopped (SIGTERM) before this change was confirmed'
      ) as unknown
    })
    expect(run.plan?.accounts.map(account => account.accountId)).toEqual([
      '222222222222',
      '333333333333'
    ])
    expect(run.summary).toContain('**Stopped early:** the run received SIGTERM during apply')
  })
})

describe('a run stopped in its scan, through dist/index.js', () => {
  it('gives every account it did not read a keys.csv row saying so (never a full-looking inventory)', async () => {
    const emulator = await startEmulator({ world: world(1) })
    onTestFinished(() => emulator.close())
    // One account at a time; the first one's authorization details never come back.
    const hung = emulator.crashAfter({
      account: '222222222222',
      operation: 'GetAccountAuthorizationDetails'
    })
    const run = await runAgainstEmulator(
      emulator,
      { ...ORG, 'max-concurrency': '1' },
      { killWhen: hung, killSignal: 'SIGTERM' }
    )
    expect(run.exitCode, run.stdout).toBe(1)
    expect(run.plan?.interrupted).toMatchObject({ signal: 'SIGTERM', phase: 'scan' })
    const keys = parse<Record<string, string>>(
      readFileSync(join(run.outputs['report-dir'] ?? '', 'keys.csv'), 'utf8'),
      { columns: true }
    )
    expect(keys.map(row => [row.accountId, row.withinPolicy])).toEqual([
      ['222222222222', 'unknown'],
      ['333333333333', 'unknown']
    ])
    for (const row of keys)
      expect(row.note).toMatch(/^not reached: the run was stopped \(SIGTERM\)/)
  })
})

describe('max-new-issues, through dist/index.js', () => {
  it('opens at most max-new-issues, lists the rest in one roll-up issue, and catches up on later runs', async () => {
    const emulator = await startEmulator({ world: world(5) })
    const github = new FakeGitHub()
    await github.start()
    try {
      const run = (max: string) =>
        runAgainstEmulator(
          emulator,
          { ...ORG, 'open-issues': 'true', 'github-token': TOKEN, 'max-new-issues': max },
          {
            env: {
              GITHUB_API_URL: github.baseUrl,
              GITHUB_REPOSITORY: `${github.owner}/${github.repo}`
            }
          }
        )
      const first = await run('3')
      expect(first.exitCode, first.stdout).toBe(0)
      const opened = github.issues.filter(issue => !issue.title.includes('wait for an issue'))
      expect(opened.map(issue => issue.title)).toHaveLength(3)
      const rollup = github.issues.find(issue => issue.title.includes('wait for an issue'))
      expect(rollup?.title).toBe('IAM key rotation: 2 more problems wait for an issue')
      expect(rollup?.body).toContain('at most 3 issues (input max-new-issues)')
      expect(rollup?.body).toContain('`IAM key rotation blocked: bot-03 in 333333333333 (prod)`')
      expect(first.plan?.issues?.deferred?.map(issue => issue.key)).toEqual([
        'blocked:333333333333:bot-03',
        'blocked:333333333333:bot-04'
      ])
      expect(first.plan?.issues?.rollup?.number).toBe(rollup?.number)
      expect(first.summary).toContain(
        `- 2 problems over max-new-issues wait for their own issue, listed in [#${rollup?.number}]`
      )

      // The next run opens the rest, and closes the roll-up: nothing waits any more.
      const second = await run('3')
      expect(second.exitCode, second.stdout).toBe(0)
      expect(github.issues.filter(issue => issue.state === 'open')).toHaveLength(5)
      expect(github.issue(rollup!.number).state).toBe('closed')
      expect(second.plan?.issues?.deferred).toBeUndefined()

      // A third run: the same evidence, nothing written.
      const writes = github.writes().length
      const third = await run('3')
      expect(third.exitCode).toBe(0)
      expect(github.writes()).toHaveLength(writes)
    } finally {
      await github.stop()
      await emulator.close()
    }
  })
})
