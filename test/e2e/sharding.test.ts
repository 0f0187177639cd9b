import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Plan } from '../../src/plan/types.js'
import { startEmulator, type Emulator, type WorldAccount } from '../emulator/index.js'
import { ORG, runAgainstEmulator, type EmulatedRun } from '../support/emulated-action.js'
import { runAction } from '../support/run-action.js'

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
          ...accounts()
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
    for (const run of shards) expect(run.plan!.accounts.length).toBeGreaterThan(0)
  })

  it('merges the shard reports into the report of an unsharded run', async () => {
    const downloads = mkdtempSync(join(tmpdir(), 'shard-artifacts-'))
    shards.forEach((run, index) =>
      cpSync(run.outputs['report-dir'] ?? '', join(downloads, `key-rotation-report-${index + 1}`), {
        recursive: true
      })
    )
    const merged = await runAction({ inputs: { 'merge-from': downloads } })
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
  })

  it('refuses to merge shards of different runs', async () => {
    const downloads = mkdtempSync(join(tmpdir(), 'shard-artifacts-'))
    cpSync(whole.outputs['report-dir'] ?? '', join(downloads, 'a'), { recursive: true })
    cpSync(shards[0]?.outputs['report-dir'] ?? '', join(downloads, 'b'), { recursive: true })
    const merged = await runAction({ inputs: { 'merge-from': downloads } })
    expect(merged.exitCode).not.toBe(0)
    expect(merged.stdout).toMatch(/::error::.*were shards of different runs mixed/)
  })
})
