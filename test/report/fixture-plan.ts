import { computeTotals } from '../../src/plan/build.js'
import { KeyOutlook } from '../../src/plan/outlook.js'
import type { Plan } from '../../src/plan/types.js'
import { account, action, inDays, key, NOW, plan, user, warn } from '../notify/plan-builders.js'
import type { PlanAccount } from '../../src/plan/types.js'

/** An account in scope that is not ACTIVE, as the run lists it. */
function skipped(accountId: string, accountName: string, state: string): PlanAccount {
  return {
    ...account(
      accountId,
      accountName,
      [],
      'skipped',
      `the account is ${state} in AWS Organizations`
    ),
    reason: state
  }
}

/**
 * One plan with every part the reports render: failed accounts and users, tampered state,
 * blocked keys, secrets not as the tool made them, failed and skipped actions, warnings,
 * deployment, notifications and issues, and cells that need escaping in Markdown and CSV.
 * test/report/golden/ holds what the reports make of it (read them when a change alters them).
 */
export function fixturePlan(): Plan {
  const accounts = [
    account('222222222222', 'dev | "sandbox", test', [
      user(
        'ci-bot',
        [key('AKIDFIXTURE0001', 95), key('AKIDFIXTURE0002', 3)],
        [
          action('ROTATE', 'AKIDFIXTURE0001', 'EXPIRED_ACTIVE_KEY', {
            result: 'done',
            newAccessKeyId: 'AKIDFIXTURE0003',
            secretArn:
              'arn:aws:secretsmanager:eu-west-1:222222222222:secret:iam-key-rotation/222222222222/ci-bot-AbCdEf'
          })
        ],
        'team@example.com'
      ),
      {
        ...user(
          'report,writer',
          [key('AKIDFIXTURE0004', 101, { lastUsedAt: 'never' })],
          [
            action('DEACTIVATE', 'AKIDFIXTURE0004', 'INSTALL_GRACE_PERIOD_END', {
              result: 'failed',
              error: 'AccessDenied: not authorized\nto perform iam:UpdateAccessKey'
            })
          ]
        ),
        notes: ['A forced rotation is already under way | nothing to add.']
      },
      {
        userName: 'legacy',
        exempt: true,
        owner: 'ops@example.com',
        keys: [key('AKIDFIXTURE0005', 400)],
        actions: []
      },
      {
        userName: 'broken',
        exempt: false,
        keys: [],
        actions: [],
        error: 'ListAccessKeys: Throttling'
      },
      {
        ...user(
          'tampered-bot',
          [key('AKIDFIXTURE0006', 50)],
          [warn('AKIDFIXTURE0006', 'KEY_PENDING_ROTATION', 5)]
        ),
        stateFindings: [
          {
            accessKeyId: 'AKIDFIXTURE0006',
            reason: 'STATE_TAMPERED',
            message: 'A record did not verify.',
            problem: 'signature does not verify'
          }
        ]
      }
    ]),
    account('333333333333', 'prod', [
      user(
        '=cmd|calc',
        [key('AKIDFIXTURE0007', 120), key('AKIDFIXTURE0008', 20)],
        [
          action('BLOCKED', 'AKIDFIXTURE0007', 'ROTATION_BLOCKED_BY_CONFLICT', {
            detail: 'Two active keys; the other one was used yesterday.'
          })
        ],
        'a@example.com b@example.com'
      ),
      {
        ...user(
          'vendor',
          [key('AKIDFIXTURE0009', 91)],
          [
            action('ROTATE', 'AKIDFIXTURE0009', 'EXPIRED_ACTIVE_KEY', {
              result: 'skipped',
              error: 'the keys changed'
            })
          ]
        ),
        secret: {
          name: 'iam-key-rotation/333333333333/vendor',
          arn: 'arn:aws:secretsmanager:eu-west-1:333333333333:secret:iam-key-rotation/333333333333/vendor-XyZ123',
          owned: true,
          repairs: [
            {
              problem: 'its resource policy lets others read it',
              remedy: 'put the owner-only policy back',
              result: 'failed',
              error: 'AccessDenied'
            }
          ]
        }
      },
      {
        ...user(
          'squatter',
          [key('AKIDFIXTURE0010', 92)],
          [action('BLOCKED', 'AKIDFIXTURE0010', 'SECRET_NOT_OWNED')]
        ),
        secret: {
          name: 'iam-key-rotation/333333333333/squatter',
          arn: 'arn:aws:secretsmanager:eu-west-1:333333333333:secret:iam-key-rotation/333333333333/squatter-Qw3rty',
          owned: false,
          problem: 'it has no marker of this tool',
          repairs: []
        }
      },
      user(
        'old-inactive',
        [key('AKIDFIXTURE0011', 130, { status: 'Inactive' })],
        [
          action('DELETE', 'AKIDFIXTURE0011', 'RECOVER_GRACE_PERIOD_END', {
            result: 'done',
            dueAt: inDays(-1)
          })
        ]
      )
    ]),
    account('444444444444', 'quiet', []),
    account(
      '555555555555',
      'unreachable `team`',
      [],
      'failed',
      'AssumeRole: AccessDenied | no role'
    ),
    skipped('666666666666', 'closed @team', 'SUSPENDED'),
    skipped('777777777777', 'leaving', 'PENDING_CLOSURE'),
    skipped('888888888888', 'old', 'SUSPENDED')
  ]
  accounts[2]!.usersScanned = 12
  accounts[2]!.keysScanned = 14
  const built = plan('enforce', accounts)
  const outlook = new KeyOutlook(built.policy, NOW)
  for (const k of accounts.flatMap(a => a.users.flatMap(u => u.keys))) {
    outlook.addKey(k.status, k.ageDays)
  }
  outlook.addDue('ROTATE', new Date(inDays(0)))
  outlook.addDue('ROTATE', new Date(inDays(5)))
  outlook.addDue('DEACTIVATE', new Date(inDays(5)))
  outlook.addDue('DELETE', new Date(inDays(12)))
  return {
    ...built,
    runUrl: 'https://github.example/acme/infra/actions/runs/42',
    outlook: outlook.toPlan(),
    warnings: ['force-rotate entry "ghost" matches no IAM user in any account in scope.'],
    totals: computeTotals(built.accounts, true, { apiCalls: 321, throttledRetries: 2 }),
    deployment: {
      mode: 'check',
      stackSetName: 'iam-key-rotation-member',
      status: 'CURRENT',
      differences: ['parameter UserPath: "/" → "/bots/"'],
      missingInstances: ['444444444444'],
      failedInstances: [{ account: '555555555555', region: 'eu-west-1', reason: 'role exists' }],
      centralStacks: [
        {
          name: 'iam-key-rotation-central',
          status: 'UPDATE_COMPLETE',
          templateVersion: '4',
          problems: ['template version 4, this release needs 5'],
          fix: 'aws cloudformation deploy --stack-name iam-key-rotation-central --template-file `cfn/central.yaml`',
          drift: 'IN_SYNC'
        }
      ],
      messages: ['StackSet checked | nothing applied.']
    },
    notifications: {
      sent: [{ to: 'team@example.com', subject: 'rotated' }],
      failed: ['a@example.com', 'c@example.com'].map(to => ({
        to,
        subject: 'blocked',
        error: 'Email address is not verified.',
        fix: 'verify the sender identity keys@example.com in Amazon SES in eu-west-1.'
      })),
      unsent: [
        {
          to: 'b@example.com',
          subject: 'blocked',
          reason: 'sending quota reached',
          fix: 'request a higher sending quota for SES in eu-west-1, or lower max-emails.'
        },
        { to: 'd@example.com', subject: 'blocked', reason: 'the run was stopped' }
      ],
      warnings: []
    },
    issues: {
      opened: [
        {
          number: 7,
          title: 'Blocked: =cmd|calc in 333333333333',
          url: 'https://github.example/acme/infra/issues/7'
        }
      ],
      updated: [],
      closed: [
        {
          number: 3,
          title: 'Account failed: 444444444444',
          url: 'https://github.example/acme/infra/issues/3'
        }
      ],
      unchanged: 1,
      warnings: ['Could not create the label']
    }
  }
}

/** Summary limits that cut the account sections, and the overview itself. */
export const CUT_LIMITS = { accounts: 7_000, head: 2_000 } as const
