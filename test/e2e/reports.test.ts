import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ActionType } from '../../src/policy/index.js'
import { computeTotals } from '../../src/plan/build.js'
import type { Plan, PlanAccount } from '../../src/plan/types.js'
import { planMarkdown, summaryMarkdown } from '../../src/report/markdown.js'
import { startEmulator, type Emulator } from '../emulator/index.js'
import { action, account, key, plan as handPlan, user } from '../notify/plan-builders.js'
import { planActions, runAgainstEmulator, type EmulatedRun } from '../support/emulated-action.js'
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
  const header = lines.findIndex(l => l.startsWith('| accounts | failed accounts |'))
  const names = cells(lines[header] ?? '')
  const values = cells(lines[header + 2] ?? '').map(Number)
  const totals = Object.fromEntries(names.map((name, i) => [name, values[i]]))

  const section = (title: string): string[] => {
    const start = lines.indexOf(title)
    if (start < 0) return []
    const end = lines.findIndex((l, i) => i > start && l.startsWith('#'))
    return lines.slice(start + 1, end < 0 ? undefined : end)
  }
  const failedAccounts = section('## Failed accounts').filter(l => l.startsWith('- **'))
  const blockedRows = section('## Blocked keys').filter(
    l => l.startsWith('| ') && !l.startsWith('| account |')
  )

  // Account tables: `### ID name`, then one row per action.
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
    const heading = /^### (\d{12}) /.exec(line)
    if (heading) account = heading[1] ?? ''
    if (!account || !line.startsWith('| ') || line.startsWith('| user |')) continue
    const [userName, , keyId, , , , actionCell, reason, , result] = cells(line)
    const type = /(ROTATE|DEACTIVATE|DELETE|WARN|BLOCKED)$/.exec(actionCell ?? '')?.[1]
    if (!type) continue // an exempt user's row
    rows.push({
      account,
      user: userName ?? '',
      key: keyId ?? '',
      type,
      reason: reason ?? '',
      result: (result ?? '').replace(/ → .*$/, '')
    })
  }
  return { totals, failedAccounts, blockedRows, rows }
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

  // plan.csv: one row per action (same actions, field by field) plus one per failed account.
  const csvActions = csv.filter(row => row.action !== '')
  const csvFailedAccounts = csv.filter(row => row.action === '' && row.result === 'failed')
  expect(csvActions.length + csvFailedAccounts.length).toBe(csv.length)
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

  // plan.md: its totals table, failed accounts, blocked keys and account tables.
  const read = readMarkdown(md)
  expect(read.totals).toEqual({
    accounts: t.accounts,
    'failed accounts': t.failedAccounts,
    users: t.usersScanned,
    keys: t.keysScanned,
    rotate: t.rotated,
    deactivate: t.deactivated,
    delete: t.deleted,
    warn: t.warnings,
    blocked: t.blocked
  })
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
  expect(run.summary.trim()).toBe(md.trim())
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
    expect(run.summary).toMatch(/^# IAM access key rotation: audit\n\n\*\*rotate at 90 d · /)
    expectReportsAgree(run)
  })

  it('in enforce mode, where only done actions count', async () => {
    const run = await runAgainstEmulator(emulator, demoInputs('enforce'))
    expect(run.plan!.totals.rotated).toBeGreaterThan(0)
    expectReportsAgree(run)
  })
})

describe('the job summary stays under GitHub’s 1 MiB step summary limit', () => {
  const MiB = 1024 * 1024

  function bigPlan(accounts: number, usersPerAccount: number, type: ActionType): Plan {
    const list: PlanAccount[] = Array.from({ length: accounts }, (_, a) => {
      const id = String(100000000000 + a)
      const users = Array.from({ length: usersPerAccount }, (_, u) =>
        user(
          `user-with-a-rather-long-name-${String(u).padStart(4, '0')}`,
          [key(`AKIDFAKE${a}X${u}`, 95)],
          [
            action(
              type,
              `AKIDFAKE${a}X${u}`,
              type === 'BLOCKED' ? 'ROTATION_BLOCKED_BY_CONFLICT' : 'EXPIRED_ACTIVE_KEY'
            )
          ],
          `owner-${u}@example.com`
        )
      )
      return account(id, `account-${a}`, users)
    })
    const built = handPlan('audit', list)
    return {
      ...built,
      totals: computeTotals(list, false, { apiCalls: 0, throttledRetries: 0 })
    }
  }

  it('cuts the account tables and points to the artifact', () => {
    const plan = bigPlan(80, 100, 'ROTATE')
    expect(Buffer.byteLength(planMarkdown(plan))).toBeGreaterThan(MiB)
    const summary = summaryMarkdown(plan)
    expect(Buffer.byteLength(summary)).toBeLessThan(MiB)
    expect(summary).toContain(`| 80 | 0 | 8000 | 8000 | 8000 | 0 | 0 | 0 | 0 |`)
    expect(summary).toMatch(
      /_\d+ more accounts are not shown here to stay under GitHub's step summary limit: see plan\.md in the report artifact\._\n$/
    )
  })

  it('cuts even an overview that is too big on its own (thousands of blocked keys)', () => {
    const plan = bigPlan(100, 100, 'BLOCKED')
    const markdown = planMarkdown(plan)
    const head = markdown.slice(0, markdown.indexOf('\n## Accounts\n'))
    expect(Buffer.byteLength(head)).toBeGreaterThan(MiB)
    const summary = summaryMarkdown(plan)
    expect(Buffer.byteLength(summary)).toBeLessThan(MiB)
    expect(summary).toContain('## Blocked keys')
    expect(summary).toMatch(/see plan\.md in the report artifact\._\n$/)
  })

  it('leaves a small plan whole', () => {
    const plan = bigPlan(2, 3, 'ROTATE')
    expect(summaryMarkdown(plan)).toBe(planMarkdown(plan))
  })
})
