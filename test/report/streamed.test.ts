import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunPlan } from '../../src/plan/types.js'
import { SUMMARY_LIMIT_BYTES, summaryMarkdown } from '../../src/report/markdown.js'
import { AccountSpool } from '../../src/report/spool.js'
import { writeReports } from '../../src/report/write.js'
import { CUT_LIMITS, fixturePlan } from './fixture-plan.js'

const GOLDEN = join(import.meta.dirname, 'golden')
/** UPDATE_GOLDEN=1 writes what the reports render now as the golden files (review the diff). */
const golden = (name: string, actual: string) => {
  if (process.env.UPDATE_GOLDEN) writeFileSync(join(GOLDEN, name), actual)
  return readFileSync(join(GOLDEN, name), 'utf8')
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'key-rotation-report-test-'))
  dirs.push(dir)
  return dir
}

/** The fixture plan with its accounts in a spool, added out of order as a run finishes them. */
function spooledPlan(dir: string): { plan: RunPlan; spool: AccountSpool } {
  const plan = fixturePlan()
  const spool = new AccountSpool(
    join(dir, 'accounts.jsonl'),
    plan.accounts.map(account => account.accountId)
  )
  for (const account of [...plan.accounts].reverse()) spool.add(account)
  return { plan: { ...plan, accounts: spool }, spool }
}

describe('reports streamed from the account spool', () => {
  it('are byte for byte the golden reports (test/report/golden)', () => {
    const dir = tempDir()
    const { plan, spool } = spooledPlan(dir)
    const paths = writeReports(plan, join(dir, 'report'))
    const matches = (name: string, actual: string) => expect(actual).toBe(golden(name, actual))
    matches('plan.json', readFileSync(paths.json, 'utf8'))
    matches('plan.md', readFileSync(paths.markdown, 'utf8'))
    matches('plan.csv', readFileSync(paths.csv, 'utf8'))
    matches('summary.md', summaryMarkdown(plan))
    matches('summary-accounts-cut.md', summaryMarkdown(plan, CUT_LIMITS.accounts))
    matches('summary-head-cut.md', summaryMarkdown(plan, CUT_LIMITS.head))
    // Lists bounded, detail filled by importance: each cut says where the rest is.
    matches(
      'summary-limited.md',
      summaryMarkdown(plan, SUMMARY_LIMIT_BYTES, { rows: 1, detailBytes: 1_500, text: 40 })
    )
    spool.remove()
  })

  it('write an empty plan as JSON.stringify does', () => {
    const dir = tempDir()
    const plan = { ...fixturePlan(), accounts: [] }
    const paths = writeReports(plan, dir)
    expect(readFileSync(paths.json, 'utf8')).toBe(`${JSON.stringify(plan, null, 2)}\n`)
    expect(readFileSync(paths.csv, 'utf8').split('\n')).toHaveLength(2)
  })

  it('read each account back from disk, in the order given', () => {
    const dir = tempDir()
    const { spool } = spooledPlan(dir)
    const ids = fixturePlan().accounts.map(account => account.accountId)
    expect([...spool].map(account => account.accountId)).toEqual(ids)
    // Iterable again, as each report section needs.
    expect([...spool].map(account => account.accountId)).toEqual(ids)
    expect(spool.count).toBe(ids.length)
    spool.remove()
  })
})
