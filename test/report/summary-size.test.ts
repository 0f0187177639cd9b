import { describe, expect, it } from 'vitest'
import type { ActionType, ReasonCode } from '../../src/policy/index.js'
import { computeTotals } from '../../src/plan/build.js'
import type { Plan, PlanAccount } from '../../src/plan/types.js'
import { planMarkdown, summaryMarkdown } from '../../src/report/markdown.js'
import { action, account, key, plan as handPlan, user } from '../notify/plan-builders.js'

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
    expect(summary).toContain('**80 accounts** · 8,000 users · 8,000 keys scanned')
    expect(summary).toContain('| 🔄 ROTATE | EXPIRED_ACTIVE_KEY | 8000 | 8000 planned | now |')
    expect(summary).toMatch(
      /_\d+ more accounts with something to report are in plan\.md in the report artifact\._\n$/
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
    expect(summary).toContain('_… and 9,970 more rows: see plan.md in the report artifact._')
    // The byte cut, should it come, takes detail and never the action list before it.
    const cut = summaryMarkdown(plan, 20_000)
    expect(Buffer.byteLength(cut)).toBeLessThan(20_000)
    expect(cut).toContain(
      '| ⛔ BLOCKED | ROTATION_BLOCKED_BY_CONFLICT | 10000 | 10000 planned | now |'
    )
    expect(cut).toMatch(/see plan\.md in the report artifact\._\n$/)
  })

  it('stays under 150 KB at 1,000 accounts, every problem and the action list shown', () => {
    const plan = thousandAccountPlan()
    const summary = summaryMarkdown(plan)
    expect(Buffer.byteLength(summary)).toBeLessThan(150 * 1024)
    expect(Buffer.byteLength(planMarkdown(plan))).toBeGreaterThan(Buffer.byteLength(summary))
    expect(summary).toContain('**1,000 accounts** (20 failed)')
    for (const heading of ['## To act on', '## Failed accounts', '## Blocked keys', '## Accounts'])
      expect(summary).toContain(heading)
    // Accounts with nothing to do are one line; the rest are folded, the broken ones first.
    expect(summary).toMatch(/\*\*[\d,]+ accounts\*\* with nothing to do\./)
    const firstDetail = summary.indexOf('<details>')
    expect(summary.slice(firstDetail, summary.indexOf('</details>'))).toContain('BLOCKED')
    expect(summary).toMatch(/more accounts? with something to report (is|are) in plan\.md/)
  })

  /** The plan with every account name, owner tag, error, detail and warning set to crafted text. */
  function hostileTexts(plan: Plan, name: string, error: string): Plan {
    const accounts = plan.accounts.map(a => ({
      ...a,
      accountName: name,
      ...(a.error !== undefined ? { error } : {}),
      users: a.users.map(u => ({
        ...u,
        owner: name,
        actions: u.actions.map(x => ({ ...x, detail: error }))
      }))
    }))
    return { ...plan, accounts, warnings: Array<string>(500).fill(error) }
  }

  /** A large organization on an ordinary day: most accounts quiet, some changes, a few problems. */
  function thousandAccountPlan(): Plan {
    const reasons: Record<ActionType, ReasonCode> = {
      ROTATE: 'EXPIRED_ACTIVE_KEY',
      DEACTIVATE: 'INSTALL_GRACE_PERIOD_END',
      DELETE: 'RECOVER_GRACE_PERIOD_END',
      WARN: 'KEY_PENDING_ROTATION',
      BLOCKED: 'ROTATION_BLOCKED_BY_CONFLICT'
    }
    const list: PlanAccount[] = Array.from({ length: 1000 }, (_, a) => {
      const id = String(100000000000 + a)
      if (a % 50 === 7)
        return {
          ...account(id, `account-${a}`, []),
          status: 'failed',
          error: 'AssumeRole: AccessDenied'
        }
      const users = Array.from({ length: 12 }, (_, u) => {
        const keyId = `AKIDFAKE${a}X${u}`
        // Every third account has something to do, one or two users each.
        const type: ActionType | undefined =
          a % 3 !== 0 || u > a % 2
            ? undefined
            : a % 20 === 3
              ? 'BLOCKED'
              : (['ROTATE', 'DEACTIVATE', 'DELETE', 'WARN'] as const)[(a + u) % 4]
        return user(
          `service-user-${String(u).padStart(3, '0')}`,
          [key(keyId, type ? 95 : 20)],
          type ? [action(type, keyId, reasons[type])] : [],
          `team-${u}@example.com`
        )
      })
      return account(id, `workload-account-${a}`, users)
    })
    return {
      ...handPlan('audit', list),
      totals: computeTotals(list, false, { apiCalls: 0, throttledRetries: 0 })
    }
  }

  it('caps the rows of one huge account, so it cannot fill the summary', () => {
    const plan = bigPlan(1, 3000, 'WARN')
    const summary = summaryMarkdown(plan)
    expect(Buffer.byteLength(summary)).toBeLessThan(150 * 1024)
    expect(summary).toContain('_… and 2,970 more rows: see plan.md in the report artifact._')
    expect(summary).toMatch(/<\/details>\n$/)
  })

  it('cuts long texts: 1,000 accounts with long AWS errors and @-names stay under 150 KB', () => {
    // An AccessDenied as AWS writes it, with a session name, and names full of mention bait.
    const error =
      'User: arn:aws:sts::111111111111:assumed-role/iam-key-rotation-member-role/GitHubActions-9876543210-1 is not authorized to perform: iam:ListAccessKeys on resource: user team@corp.example because no identity-based policy allows the iam:ListAccessKeys action (Service: Iam, Status Code: 403, Request ID: 0f3c8b0e-1111-2222-3333-444455556666)'
    const summary = summaryMarkdown(hostileTexts(thousandAccountPlan(), '@ops @sec', error))
    expect(Buffer.byteLength(summary)).toBeLessThan(150 * 1024)
    expect(summary).toContain('_… and 470 more rows: see plan.md in the report artifact._')
  })

  it('stays under the limit, action list first, for texts made only of escapes (every character an @)', () => {
    const summary = summaryMarkdown(
      hostileTexts(thousandAccountPlan(), '@'.repeat(50), '@'.repeat(5000))
    )
    expect(Buffer.byteLength(summary)).toBeLessThan(1024 * 1024)
    expect(summary).toContain('| 🔄 ROTATE | EXPIRED_ACTIVE_KEY |')
    // Texts are cut at 1,000 characters.
    expect(summary).not.toContain('@&#8203;'.repeat(1001))
  })

  it('does not call accounts with problems but no action "nothing to do"', () => {
    const tampered = {
      ...user('bot', [key('AKIDFAKE1', 10)], []),
      stateFindings: [
        {
          accessKeyId: 'AKIDFAKE1',
          reason: 'STATE_TAMPERED' as const,
          message: 'A record did not verify.',
          problem: 'signature does not verify'
        }
      ]
    }
    const list = [
      account('100000000001', 'tampered', [tampered]),
      account('100000000002', 'quiet', [])
    ]
    const plan = {
      ...handPlan('audit', list),
      totals: computeTotals(list, false, { apiCalls: 0, throttledRetries: 0 })
    }
    const summary = summaryMarkdown(plan)
    expect(summary).toContain('**1 account** with nothing to do.')
    expect(summary).toContain('<details><summary><b>100000000001</b> tampered: 1 problem</summary>')
    expect(summary).not.toContain('every key in scope is within policy')
  })

  it('leaves a small plan whole', () => {
    const plan = bigPlan(2, 3, 'ROTATE')
    expect(summaryMarkdown(plan)).toBe(planMarkdown(plan))
  })
})
