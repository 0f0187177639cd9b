import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { Plan } from '../../src/plan/types.js'
import { startEmulator, type Emulator, type WorldAccount } from '../emulator/index.js'
import { FakeGitHub } from '../issues/fake-github.js'
import {
  AMBIENT_CREDENTIALS,
  ORG,
  runAgainstEmulator,
  type EmulatedRun
} from '../support/emulated-action.js'
import { errorLines, runAction } from '../support/run-action.js'
import { testTempDir } from '../support/temp-dirs.js'

const SHARDS = 3
const INPUTS = {
  ...ORG,
  'include-management-account': 'true',
  'force-rotate': 'only-in-one-account\nghost'
}

/** Twelve accounts with keys at every stage, and one user that lives in a single account. */
function accounts(): WorldAccount[] {
  const ages = [3, 85, 95, 120, 400]
  return Array.from({ length: 12 }, (_, i) => ({
    id: String(200000000000 + i * 111111),
    name: `account-${i}`,
    email: `account-${i}@example.com`,
    memberRole: true,
    users: [
      ...ages.map((age, u) => ({
        name: `user-${u}`,
        keys: [{ status: 'Active' as const, ageDays: age + i, lastUsedDaysAgo: u === 4 ? null : 1 }]
      })),
      ...(i === 7
        ? [
            {
              name: 'only-in-one-account',
              keys: [{ status: 'Active' as const, ageDays: 5, lastUsedDaysAgo: 1 }]
            }
          ]
        : [])
    ]
  }))
}

/** keys.csv of a run, without the column that is each run's own time for changes due now. */
function inventory(run: { outputs: Record<string, string> }): Record<string, string>[] {
  const text = readFileSync(join(run.outputs['report-dir'] ?? '', 'keys.csv'), 'utf8')
  return parse<Record<string, string>>(text, { columns: true }).map(
    ({ nextActionAt: _at, ...row }) => row
  )
}

/** A plan without what legitimately differs between runs. */
function comparable(plan: Plan) {
  const { runId: _runId, generatedAt: _generatedAt, totals, ...rest } = plan
  const { apiCalls: _apiCalls, throttledRetries: _throttled, ...counts } = totals
  return { ...rest, totals: counts }
}

describe('sharding', () => {
  let emulator: Emulator
  let whole: EmulatedRun
  const shards: EmulatedRun[] = []

  beforeAll(async () => {
    emulator = await startEmulator({
      world: {
        organizationId: 'o-a1b2c3d4e5',
        managementAccountId: '111111111111',
        // Every account takes part, the management account too (so each shard has one).
        bootstrap: { central: { IncludeManagementAccount: 'true' } },
        accounts: [
          { id: '111111111111', name: 'management', email: 'm@example.com', memberRole: true },
          ...accounts(),
          // Not ACTIVE: each shard that draws one lists it as skipped, and so does the merge.
          { id: '900000000001', name: 'closed', email: 'c@example.com', status: 'SUSPENDED' },
          { id: '900000000002', name: 'closing', email: 'd@example.com', status: 'PENDING_CLOSURE' }
        ]
      }
    })
    whole = await runAgainstEmulator(emulator, INPUTS)
    for (let k = 1; k <= SHARDS; k++) {
      shards.push(await runAgainstEmulator(emulator, { ...INPUTS, shard: `${k}/${SHARDS}` }))
    }
  })
  afterAll(() => emulator.close())

  it('partitions the accounts exactly: none missing, none in two shards', () => {
    expect(whole.exitCode, whole.stdout).toBe(0)
    const ids = shards.flatMap(run => run.plan!.accounts.map(account => account.accountId))
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.sort()).toEqual(whole.plan!.accounts.map(account => account.accountId).sort())
    expect(
      whole.plan!.accounts.filter(a => a.status === 'skipped').map(a => [a.accountId, a.reason])
    ).toEqual([
      ['900000000001', 'SUSPENDED'],
      ['900000000002', 'PENDING_CLOSURE']
    ])
    for (const run of shards) expect(run.plan!.accounts.length).toBeGreaterThan(0)
  })

  it('merges the shard reports into the report of an unsharded run', async () => {
    const downloads = testTempDir('shard-artifacts-')
    shards.forEach((run, index) =>
      cpSync(run.outputs['report-dir'] ?? '', join(downloads, `key-rotation-report-${index + 1}`), {
        recursive: true
      })
    )
    const merged = await runAction({ inputs: { 'merge-from': downloads, notify: 'false' } })
    expect(merged.exitCode, merged.stdout).toBe(0)
    const plan = (await import(join(merged.outputs['report-dir'] ?? '', 'plan.json'), {
      with: { type: 'json' }
    })) as { default: Plan }
    expect(comparable(plan.default)).toEqual(comparable(whole.plan!))
    expect(plan.default.warnings).toEqual([
      'force-rotate entry "ghost" matches no IAM user in any account in scope.'
    ])
    for (const name of [
      'rotated',
      'deactivated',
      'deleted',
      'warnings',
      'blocked',
      'failed-accounts'
    ]) {
      expect(merged.outputs[name], name).toBe(whole.outputs[name])
    }
    expect(merged.summary).toContain('# IAM access key rotation: audit')

    // keys.csv: the shards' inventories as one, in account order, one header, no key twice.
    const text = readFileSync(join(merged.outputs['report-dir'] ?? '', 'keys.csv'), 'utf8')
    expect(text.split('\n').filter(line => line.startsWith('accountId,'))).toHaveLength(1)
    const keys = inventory(merged)
    expect(keys).toEqual(inventory(whole))
    // One row per key, and one per skipped account (its keys are unknown).
    expect(keys).toHaveLength(whole.plan!.totals.keysScanned + whole.plan!.totals.skippedAccounts)
    expect(keys.filter(row => row.note?.startsWith('skipped: ')).map(row => row.accountId)).toEqual(
      ['900000000001', '900000000002']
    )
    expect(keys.map(row => row.accountId)).toEqual(keys.map(row => row.accountId).sort())
    expect(new Set(keys.map(row => `${row.accountId}/${row.userName}`)).size).toBe(keys.length)
    expect(keys.filter(row => row.withinPolicy === 'no').length).toBeGreaterThan(0)
    // The outlook: the shards' counts added up, as the unsharded run counted them.
    expect(plan.default.outlook).toEqual(whole.plan!.outlook)
    const sum = (plan: Plan) => plan.outlook!.activeKeyAges.reduce((n, b) => n + b.keys, 0)
    expect(sum(plan.default)).toBe(whole.plan!.totals.keysScanned)
    expect(shards.map(run => sum(run.plan!))).not.toContain(sum(plan.default))
  })

  it('merges without a shard’s keys.csv: its accounts are listed with their keys unknown', async () => {
    const dir = downloads([1, 2, 3])
    rmSync(join(dir, 'key-rotation-report-2', 'keys.csv'))
    const merged = await runAction({ inputs: { 'merge-from': dir, notify: 'false' } })
    expect(merged.exitCode, merged.stdout).toBe(0)
    const keys = inventory(merged)
    const given = shards[1]!.plan!.shard!.accountIds
    const unknown = keys.filter(row => row.note?.startsWith('keys unknown: '))
    expect(unknown.map(row => row.accountId)).toEqual(given)
    expect(unknown[0]?.note).toBe('keys unknown: the report of shard 2/3 has no keys.csv')
    // Every other row without a verdict is a skipped account's.
    expect(keys.filter(row => row.withinPolicy === 'unknown' && !unknown.includes(row))).toSatisfy(
      (rows: Record<string, string>[]) => rows.every(row => row.note?.startsWith('skipped: '))
    )
    expect(merged.summary).toContain('has no keys.csv beside it')
  })

  /** The shard reports in a merge-from folder, each plan.json changed by `edit` first. */
  function downloads(
    pick: readonly number[],
    edit: (plan: Plan, shard: number) => void = () => undefined
  ): string {
    const dir = testTempDir('shard-artifacts-')
    pick.forEach((shard, position) => {
      const target = join(dir, `key-rotation-report-${position + 1}`)
      cpSync(shards[shard - 1]?.outputs['report-dir'] ?? '', target, { recursive: true })
      const path = join(target, 'plan.json')
      const plan = JSON.parse(readFileSync(path, 'utf8')) as Plan
      edit(plan, shard)
      writeFileSync(path, JSON.stringify(plan, null, 2))
    })
    return dir
  }

  it('records in each shard plan its K/N, the workflow run and the accounts it was given', () => {
    shards.forEach((run, index) => {
      const shard = run.plan!.shard!
      expect(shard).toMatchObject({
        index: index + 1,
        count: SHARDS,
        workflowRunId: '1234567890',
        organizationId: 'o-a1b2c3d4e5',
        managementAccountId: '111111111111'
      })
      expect(shard.accountIds).toEqual(run.plan!.accounts.map(a => a.accountId).sort())
    })
  })

  it.each([
    {
      what: 'a plan that is not a shard job’s',
      folder: () => {
        const dir = downloads([1, 2, 3])
        cpSync(whole.outputs['report-dir'] ?? '', join(dir, 'whole'), { recursive: true })
        return dir
      },
      error: /whole\/plan\.json is not the plan of a shard job/
    },
    {
      what: 'a missing shard',
      folder: () => downloads([1, 3]),
      error: /Shard 2\/3 is missing from merge-from: every shard job must upload its report/
    },
    {
      what: 'a shard twice',
      folder: () => downloads([1, 2, 2, 3]),
      error:
        /Shard 2\/3 is there twice: .*key-rotation-report-2\/plan\.json and .*key-rotation-report-3\/plan\.json/
    },
    {
      what: 'shards of different workflow runs',
      folder: () =>
        downloads([1, 2, 3], (plan, shard) => {
          if (shard === 3) plan.shard!.workflowRunId = '999'
        }),
      error: /key-rotation-report-3\/plan\.json is from workflow run 999 but .* from run 1234567890/
    },
    {
      what: 'shards of different organizations',
      folder: () =>
        downloads([1, 2, 3], (plan, shard) => {
          if (shard === 2) plan.shard!.organizationId = 'o-zzzzzzzzzz'
        }),
      error:
        /key-rotation-report-2\/plan\.json is of organization o-zzzzzzzzzz .* but .* of o-a1b2c3d4e5/
    },
    {
      what: 'shards that disagree on N',
      folder: () =>
        downloads([1, 2, 3], (plan, shard) => {
          if (shard === 2) plan.shard!.count = 4
        }),
      error: /is shard 2\/4 but .* is shard 1\/3: the shards disagree on N/
    },
    {
      what: 'an account in two shards',
      folder: () =>
        downloads([1, 2, 3], (plan, shard) => {
          if (shard === 2) plan.shard!.accountIds.push(shards[0]!.plan!.shard!.accountIds[0]!)
        }),
      error:
        /Account \d{12} is in both .*key-rotation-report-1\/plan\.json and .*key-rotation-report-2\/plan\.json/
    },
    {
      what: 'a shard plan without an account it was given',
      folder: () =>
        downloads([1, 2, 3], (plan, shard) => {
          if (shard === 1) plan.accounts.pop()
        }),
      error:
        /key-rotation-report-1\/plan\.json lacks 1 of the accounts its shard \(1\/3\) was given/
    },
    {
      what: 'a keys.csv with keys of an account its shard was not given',
      folder: () => {
        const dir = downloads([1, 2, 3])
        cpSync(
          join(dir, 'key-rotation-report-1', 'keys.csv'),
          join(dir, 'key-rotation-report-2', 'keys.csv')
        )
        return dir
      },
      error:
        /key-rotation-report-2\/keys\.csv lists keys of account \d{12}, which its shard \(2\/3\) was not given/
    }
  ])('refuses to merge $what, and says what is wrong', async ({ folder, error }) => {
    const merged = await runAction({ inputs: { 'merge-from': folder(), notify: 'false' } })
    expect(merged.exitCode).not.toBe(0)
    const errors = errorLines(merged)
    expect(errors.join('\n')).toMatch(error)
    expect(merged.outputs['plan-path']).toBeUndefined()
  })
})

describe('a sharded run mails and files issues once, from the merge job', () => {
  const SENDER = 'security@example.com'
  const OWNER = 'platform-team@example.com'
  const TOKEN = 'loopback-github-token-for-tests'

  it('shard jobs send no mail and touch no issue; the merge job sends one digest per recipient and opens each issue once', async () => {
    // Every account has a user of OWNER whose key is due (rotation planned), and a user whose
    // rotation is blocked (two active keys).
    const emulator = await startEmulator({
      world: {
        organizationId: 'o-a1b2c3d4e5',
        managementAccountId: '111111111111',
        ses: { verifiedIdentities: [SENDER] },
        accounts: [
          { id: '111111111111', name: 'management', email: 'm@example.com', memberRole: true },
          ...Array.from({ length: 6 }, (_, i) => ({
            id: String(300000000000 + i * 111111),
            name: `account-${i}`,
            email: `account-${i}@example.com`,
            memberRole: true,
            users: [
              {
                name: 'app',
                tags: { owner: OWNER },
                keys: [{ status: 'Active' as const, ageDays: 92, lastUsedDaysAgo: 1 }]
              },
              {
                name: 'two-keys',
                keys: [
                  { status: 'Active' as const, ageDays: 120, lastUsedDaysAgo: 1 },
                  { status: 'Active' as const, ageDays: 20, lastUsedDaysAgo: 0 }
                ]
              }
            ]
          }))
        ]
      }
    })
    const github = new FakeGitHub()
    await github.start()
    onTestFinished(async () => {
      await github.stop()
      await emulator.close()
    })
    const githubEnv = {
      GITHUB_API_URL: github.baseUrl,
      GITHUB_REPOSITORY: `${github.owner}/${github.repo}`
    }
    const mailInputs = {
      notify: 'true',
      'sender-email': SENDER,
      'owner-tag': 'owner',
      'open-issues': 'true',
      'github-token': TOKEN
    }

    const dir = testTempDir('shard-artifacts-')
    for (let k = 1; k <= 3; k++) {
      const run = await runAgainstEmulator(
        emulator,
        { ...ORG, ...mailInputs, shard: `${k}/3` },
        { env: githubEnv }
      )
      expect(run.exitCode, run.stdout).toBe(0)
      expect(run.stdout).toContain('no mail and no GitHub issue here')
      expect(run.plan?.notifications).toBeUndefined()
      cpSync(run.outputs['report-dir'] ?? '', join(dir, `key-rotation-report-${k}`), {
        recursive: true
      })
    }
    expect(emulator.emails()).toEqual([])
    expect(github.requests).toEqual([])

    const merged = await runAction({
      inputs: { 'merge-from': dir, ...mailInputs },
      env: { ...AMBIENT_CREDENTIALS, AWS_ENDPOINT_URL: emulator.url, ...githubEnv }
    })
    expect(merged.exitCode, merged.stdout).toBe(0)
    const mails = emulator.emails()
    const toOwner = mails.filter(mail => mail.to.includes(OWNER))
    expect(toOwner).toHaveLength(1)
    // One digest naming the owner's user in all six accounts, whichever shard scanned it.
    for (let i = 0; i < 6; i++) {
      expect(toOwner[0]?.text).toContain(String(300000000000 + i * 111111))
    }
    // Each account's address once, from the addresses the shards recorded.
    for (let i = 0; i < 6; i++) {
      expect(mails.filter(mail => mail.to.includes(`account-${i}@example.com`))).toHaveLength(1)
    }
    expect(github.issues.map(issue => issue.title).sort()).toEqual(
      Array.from(
        { length: 6 },
        (_, i) =>
          `IAM key rotation blocked: two-keys in ${300000000000 + i * 111111} (account-${i})`
      ).sort()
    )
  })
})
