import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ActionType } from '../../src/policy/index.js'
import type { Plan } from '../../src/plan/types.js'
import { startEmulator, type Emulator } from '../emulator/index.js'
import {
  ORG,
  planActions,
  runAgainstEmulator,
  type EmulatedRun
} from '../support/emulated-action.js'
import { asDeployed, demoWorld } from '../support/emulator-clients.js'

const ACTION_TYPES: readonly ActionType[] = ['ROTATE', 'DEACTIVATE', 'DELETE', 'WARN', 'BLOCKED']
const TOTAL_OF: Record<ActionType, 'rotated' | 'deactivated' | 'deleted' | 'warnings' | 'blocked'> =
  {
    ROTATE: 'rotated',
    DEACTIVATE: 'deactivated',
    DELETE: 'deleted',
    WARN: 'warnings',
    BLOCKED: 'blocked'
  }

interface CsvRow {
  accountId: string
  accountName: string
  userName: string
  accessKeyId: string
  action: string
  reason: string
  result: string
  error: string
}

/** The cells of a Markdown table row (escaped pipes stay inside their cell). */
function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map(cell => cell.trim())
}

/** What plan.md says, read back the way a person reads it. */
function readMarkdown(md: string) {
  const lines = md.split('\n')
  const scanned =
    /^\*\*([\d,]+) accounts?\*\*(?: \((?:([\d,]+) failed)?(?:, )?(?:([\d,]+) skipped)?\))? · ([\d,]+) users? · ([\d,]+) keys? scanned/.exec(
      lines.find(l => l.startsWith('**') && l.includes('scanned')) ?? ''
    )
  const count = (text: string | undefined) => Number((text ?? '0').replace(/,/g, ''))

  const section = (title: string): string[] => {
    const start = lines.indexOf(title)
    if (start < 0) return []
    const end = lines.findIndex((l, i) => i > start && l.startsWith('#'))
    return lines.slice(start + 1, end < 0 ? undefined : end)
  }
  // The action list: one row per action type and reason, its results counted (`1 done, 2 failed`).
  const actionList = section('## To act on')
    .filter(l => l.startsWith('| ') && !l.startsWith('| action |'))
    .map(line => {
      const [actionCell, reason, keys, results] = cells(line)
      const byResult = Object.fromEntries(
        (results ?? '').split(', ').map(part => {
          const [n, result] = part.split(' ')
          return [result ?? '', Number(n)]
        })
      )
      return {
        type: /(ROTATE|DEACTIVATE|DELETE|WARN|BLOCKED)$/.exec(actionCell ?? '')?.[1] ?? '',
        reason: reason ?? '',
        keys: Number(keys),
        byResult
      }
    })
  const failedAccounts = section('## Failed accounts').filter(l => l.startsWith('- **'))
  const blockedRows = section('## Blocked keys').filter(
    l => l.startsWith('| ') && !l.startsWith('| account |')
  )

  // Account detail: a folded block per account, one row per action.
  const rows: {
    account: string
    user: string
    key: string
    type: string
    reason: string
    result: string
  }[] = []
  let account = ''
  for (const line of lines) {
    const heading = /^<details><summary><b>(\d{12})<\/b>/.exec(line)
    if (heading) account = heading[1] ?? ''
    if (line === '</details>') account = ''
    if (!account || !line.startsWith('| ') || line.startsWith('| user |')) continue
    const [userCell, keyId, actionCell, , result] = cells(line)
    const match = /(ROTATE|DEACTIVATE|DELETE|WARN|BLOCKED)<br>(\w+)$/.exec(actionCell ?? '')
    if (!match) continue // an exempt user's row
    rows.push({
      account,
      user: (userCell ?? '').replace(/<br>owner .*$/, ''),
      key: keyId ?? '',
      type: match[1] ?? '',
      reason: match[2] ?? '',
      result: (result ?? '').replace(/ → .*$/, '')
    })
  }
  return {
    scanned: {
      accounts: count(scanned?.[1]),
      failedAccounts: count(scanned?.[2]),
      skippedAccounts: count(scanned?.[3]),
      users: count(scanned?.[4]),
      keys: count(scanned?.[5])
    },
    actionList,
    failedAccounts,
    blockedRows,
    rows
  }
}

function counted(plan: Plan, type: string, result: string): boolean {
  return plan.mode === 'audit' || result === 'done' || type === 'WARN' || type === 'BLOCKED'
}

function expectReportsAgree(run: EmulatedRun): void {
  const dir = run.outputs['report-dir'] ?? ''
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan
  const md = readFileSync(join(dir, 'plan.md'), 'utf8')
  const csv = parse<CsvRow>(readFileSync(join(dir, 'plan.csv'), 'utf8'), {
    columns: true,
    skip_empty_lines: true
  })
  const t = plan.totals

  // plan.json: its totals are the sum of its own actions.
  const jsonActions = planActions(plan)
  expect(t.accounts).toBe(plan.accounts.length)
  expect(t.failedAccounts).toBe(plan.accounts.filter(a => a.status === 'failed').length)
  expect(t.skippedAccounts).toBe(plan.accounts.filter(a => a.status === 'skipped').length)

  // plan.csv: one row per action (same actions, field by field) plus one per failed or skipped
  // account.
  const csvActions = csv.filter(row => row.action !== '')
  const csvFailedAccounts = csv.filter(row => row.action === '' && row.result === 'failed')
  const csvSkippedAccounts = csv.filter(row => row.action === '' && row.result === 'skipped')
  expect(csvActions.length + csvFailedAccounts.length + csvSkippedAccounts.length).toBe(csv.length)
  expect(csvSkippedAccounts.map(r => [r.accountId, r.reason])).toEqual(
    plan.accounts.filter(a => a.status === 'skipped').map(a => [a.accountId, a.reason])
  )
  const sortKey = (r: { account: string; user: string; key: string; type: string }) =>
    `${r.account}/${r.user}/${r.key}/${r.type}`
  const byKey = <T extends { account: string; user: string; key: string; type: string }>(
    rows: T[]
  ) => [...rows].sort((a, b) => sortKey(a).localeCompare(sortKey(b)))
  expect(
    byKey(
      csvActions.map(r => ({
        account: r.accountId,
        user: r.userName,
        key: r.accessKeyId,
        type: r.action,
        reason: r.reason,
        result: r.result
      }))
    )
  ).toEqual(byKey(jsonActions))
  expect(csvFailedAccounts.map(r => r.accountId).sort()).toEqual(
    plan.accounts
      .filter(a => a.status === 'failed')
      .map(a => a.accountId)
      .sort()
  )
  for (const type of ACTION_TYPES) {
    const rows = csvActions.filter(r => r.action === type && counted(plan, r.action, r.result))
    expect(rows.length, `plan.csv ${type} rows vs plan.json totals.${TOTAL_OF[type]}`).toBe(
      t[TOTAL_OF[type]]
    )
  }
  expect(csvActions.filter(r => r.result === 'failed').length).toBe(t.failedActions)
  expect(csvActions.filter(r => r.result === 'skipped').length).toBe(t.skippedActions)

  // plan.md: its header counts, action list, failed accounts, blocked keys and account detail.
  const read = readMarkdown(md)
  expect(read.scanned).toEqual({
    accounts: t.accounts,
    failedAccounts: t.failedAccounts,
    skippedAccounts: t.skippedAccounts,
    users: t.usersScanned,
    keys: t.keysScanned
  })
  for (const type of ACTION_TYPES) {
    const listed = read.actionList
      .filter(group => group.type === type)
      .reduce(
        (sum, group) =>
          sum +
          Object.entries(group.byResult)
            .filter(([result]) => counted(plan, type, result))
            .reduce((n, [, keys]) => n + keys, 0),
        0
      )
    expect(listed, `plan.md action list ${type}`).toBe(t[TOTAL_OF[type]])
  }
  expect(read.actionList.reduce((n, group) => n + group.keys, 0)).toBe(jsonActions.length)
  expect(read.failedAccounts).toHaveLength(t.failedAccounts)
  expect(read.blockedRows).toHaveLength(t.blocked)
  expect(byKey(read.rows)).toEqual(byKey(jsonActions))
  for (const type of ACTION_TYPES) {
    expect(
      read.rows.filter(r => r.type === type && counted(plan, r.type, r.result)).length,
      `plan.md ${type} rows`
    ).toBe(t[TOTAL_OF[type]])
  }

  // The outputs and the job summary say the same.
  expect(run.outputs).toMatchObject({
    rotated: String(t.rotated),
    deactivated: String(t.deactivated),
    deleted: String(t.deleted),
    warnings: String(t.warnings),
    blocked: String(t.blocked)
  })
  // A small plan's summary is plan.md whole, its accounts ordered by what matters most.
  const lines = (text: string) => text.trim().split('\n').sort()
  expect(lines(run.summary)).toEqual(lines(md))
}

describe('the demo organization: plan.md, plan.json and plan.csv agree on every count', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator({ world: asDeployed(demoWorld()) })
  })
  afterAll(() => emulator.close())

  const demoInputs = (mode: string) => ({
    'organization-id': 'o-a1b2c3d4e5',
    'management-account-id': '111111111111',
    mode,
    notify: 'true',
    'sender-email': 'security@example.com',
    'deploy-stacks': 'check'
  })

  it('in audit mode (as npm run demo shows it)', async () => {
    const run = await runAgainstEmulator(emulator, demoInputs('audit'))
    const t = run.plan!.totals
    // The demo is meant to show every kind of row, a failed account included.
    expect(run.exitCode).not.toBe(0)
    for (const type of ['ROTATE', 'DEACTIVATE', 'WARN', 'BLOCKED'] as const) {
      expect(t[TOTAL_OF[type]], type).toBeGreaterThan(0)
    }
    expect(t.failedAccounts).toBeGreaterThan(0)
    // Each failed account is a titled annotation (an error: fail-on-account-error is on).
    const annotated = run.stdout.match(/^::error title=Account \d{12} failed::.*$/gm) ?? []
    expect(annotated).toHaveLength(t.failedAccounts)
    expect(run.stdout).not.toMatch(/^::warning::Account \d{12} .* failed/m)
    expect(run.summary).toMatch(/^# IAM access key rotation: audit\n\n\*\*rotate at 90 d · /)
    expectReportsAgree(run)
  })

  it('in enforce mode, where only done actions count', async () => {
    const run = await runAgainstEmulator(emulator, demoInputs('enforce'))
    expect(run.plan!.totals.rotated).toBeGreaterThan(0)
    expectReportsAgree(run)
  })
})

describe('keys.csv: every key in scope, one row each, safe to open in a spreadsheet', () => {
  interface KeyCsvRow {
    accountId: string
    accountName: string
    userName: string
    accessKeyId: string
    status: string
    ageDays: string
    lastUsedAt: string
    exempt: string
    exemptReason: string
    nextAction: string
    nextActionAt: string
    nextActionReason: string
    withinPolicy: string
    note: string
  }

  const DEV = '222222222222'
  const PROD = '333333333333'
  const BROKEN = '444444444444'
  let emulator: Emulator
  let run: EmulatedRun
  let rows: KeyCsvRow[]
  let keysCsv: string

  beforeAll(async () => {
    emulator = await startEmulator({
      world: {
        organizationId: 'o-a1b2c3d4e5',
        managementAccountId: '111111111111',
        accounts: [
          { id: '111111111111', name: 'management', email: 'm@example.com' },
          {
            id: DEV,
            // Account names are set by each member account's administrators.
            name: '=1+2',
            email: 'dev@example.com',
            memberRole: true,
            groups: [{ name: 'IAMKeyRotationExemptionGroup', members: ['breakglass'] }],
            users: [
              // Nothing to do: known only by credential report slot.
              { name: 'quiet', keys: [{ ageDays: 30, lastUsedDaysAgo: 1 }] },
              { name: 'due', keys: [{ ageDays: 95, lastUsedDaysAgo: 1 }] },
              // IAM user names may start with = @ + - ([\w+=,.@-]+).
              { name: '=cmd', keys: [{ ageDays: 95, lastUsedDaysAgo: 2 }] },
              { name: '@x', keys: [{ ageDays: 20, lastUsedDaysAgo: 0 }] },
              { name: 'breakglass', keys: [{ ageDays: 400, lastUsedDaysAgo: 3 }] },
              { name: 'no-keys' }
            ]
          },
          {
            id: PROD,
            name: 'prod',
            email: 'prod@example.com',
            memberRole: true,
            users: [
              { name: 'unused', keys: [{ ageDays: 95, lastUsedDaysAgo: null }] },
              {
                name: 'pair',
                keys: [
                  { status: 'Active', ageDays: 40, lastUsedDaysAgo: 1 },
                  { status: 'Inactive', ageDays: 200, lastUsedDaysAgo: 150 }
                ]
              },
              { name: '-svc', keys: [{ ageDays: 86, lastUsedDaysAgo: 1 }] }
            ]
          },
          // No member role: the account fails, and keys.csv says its keys are unknown.
          { id: BROKEN, name: 'broken', email: 'b@example.com', memberRole: false }
        ]
      }
    })
    run = await runAgainstEmulator(emulator, { ...ORG, 'fail-on-account-error': 'false' })
    const dir = run.outputs['report-dir'] ?? ''
    keysCsv = readFileSync(join(dir, 'keys.csv'), 'utf8')
    rows = parse<KeyCsvRow>(keysCsv, { columns: true, skip_empty_lines: true })
  })
  afterAll(() => emulator.close())

  const row = (userName: string) => rows.find(r => r.userName === userName)

  it('lists every key of every scanned user, those with nothing to do and exempt ones too', () => {
    expect(run.exitCode, run.stdout).toBe(0)
    expect(rows.map(r => `${r.accountId} ${r.userName} ${r.status}`)).toEqual([
      `${DEV} quiet Active`,
      `${DEV} due Active`,
      `${DEV} '=cmd Active`,
      `${DEV} '@x Active`,
      `${DEV} breakglass Active`,
      `${PROD} unused Active`,
      `${PROD} pair Active`,
      `${PROD} pair Inactive`,
      `${PROD} '-svc Active`,
      `${BROKEN}  `
    ])
    // One row per key the plan counted, plus the failed account's.
    const plan = run.plan!
    expect(rows.filter(r => r.status !== '')).toHaveLength(plan.totals.keysScanned)
    // plan.json lists only users with something to report; keys.csv lists them all.
    const planUsers = plan.accounts.flatMap(a => a.users.map(u => u.userName))
    expect(planUsers).not.toContain('quiet')
  })

  it('escapes hostile user and account names for spreadsheets', () => {
    expect(row("'=cmd")).toMatchObject({ accountName: "'=1+2", withinPolicy: 'no' })
    expect(row("'@x")).toMatchObject({ withinPolicy: 'yes' })
    expect(keysCsv).not.toMatch(/(^|,)[=+@-]/m)
    // plan.csv through the same helper.
    const planCsv = readFileSync(join(run.outputs['report-dir'] ?? '', 'plan.csv'), 'utf8')
    expect(planCsv).toContain(",'=cmd,")
    expect(planCsv).not.toMatch(/(^|,)[=+@-]/m)
  })

  it('says within policy, the next action and its date for each key', () => {
    const now = run.plan!.generatedAt
    expect(row('quiet')).toMatchObject({
      // Known only by its credential report slot: no id is made up.
      accessKeyId: '',
      ageDays: '30',
      withinPolicy: 'yes',
      nextAction: 'ROTATE',
      nextActionReason: 'EXPIRED_ACTIVE_KEY'
    })
    expect(Date.parse(row('quiet')!.nextActionAt) - Date.parse(now)).toBeCloseTo(
      60 * 86_400_000,
      -6
    )
    expect(row('due')).toMatchObject({
      withinPolicy: 'no',
      nextAction: 'ROTATE',
      nextActionAt: now,
      nextActionReason: 'EXPIRED_ACTIVE_KEY'
    })
    expect(row('due')!.accessKeyId).toMatch(/^AKIA/)
    expect(row('breakglass')).toMatchObject({
      exempt: 'yes',
      exemptReason: 'exemption-group',
      withinPolicy: 'yes',
      nextAction: 'none',
      ageDays: '400'
    })
    expect(row('unused')).toMatchObject({
      lastUsedAt: 'never',
      withinPolicy: 'no',
      nextAction: 'DEACTIVATE',
      nextActionReason: 'UNUSED_EXPIRED_KEY'
    })
    const [pairActive, pairInactive] = rows.filter(r => r.userName === 'pair')
    expect(pairActive).toMatchObject({ withinPolicy: 'yes', nextAction: 'ROTATE' })
    expect(pairInactive).toMatchObject({
      withinPolicy: 'yes',
      nextAction: 'DELETE',
      nextActionReason: 'RECOVER_GRACE_PERIOD_END'
    })
    expect(row("'-svc")).toMatchObject({
      withinPolicy: 'yes',
      nextAction: 'ROTATE',
      nextActionReason: 'KEY_PENDING_ROTATION'
    })
    expect(rows.at(-1)).toMatchObject({
      accountId: BROKEN,
      withinPolicy: 'unknown',
      note: expect.stringMatching(/^account could not be scanned: /) as string
    })
    // Every key id keys.csv names is the scan's: those of the plan agree.
    const planKeys = run.plan!.accounts.flatMap(a =>
      a.users.flatMap(u => u.keys.map(k => `${u.userName} ${k.accessKeyId} ${k.status}`))
    )
    for (const r of rows.filter(r => r.accessKeyId !== '' && r.exempt === 'no')) {
      expect(planKeys).toContain(`${r.userName.replace(/^'/, '')} ${r.accessKeyId} ${r.status}`)
    }
  })

  it('puts the outlook in plan.json: every evaluated key counted, changes per day', () => {
    const outlook = run.plan!.outlook!
    const evaluated = rows.filter(r => r.exempt === 'no')
    const sum = (list: { keys: number }[]) => list.reduce((total, b) => total + b.keys, 0)
    expect(sum(outlook.activeKeyAges)).toBe(evaluated.filter(r => r.status === 'Active').length)
    expect(outlook.inactiveKeys).toBe(evaluated.filter(r => r.status === 'Inactive').length)
    expect(outlook.duePerDay).toHaveLength(30)
    expect(outlook.duePerDay[0]).toMatchObject({
      day: run.plan!.generatedAt.slice(0, 10),
      rotate: 2,
      deactivate: 1,
      delete: 0
    })
    const md = readFileSync(join(run.outputs['report-dir'] ?? '', 'plan.md'), 'utf8')
    expect(md).toContain('```mermaid')
  })
})
