import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  mailSubject,
  planNotifications,
  type Mail,
  type MailItem,
  type NotificationOptions
} from '../../src/notify/mails.js'
import { loadTemplates, type MailTemplates } from '../../src/notify/templates.js'
import { REASON_CODES } from '../../src/policy/index.js'
import type { Plan } from '../../src/plan/types.js'
import { account, action, DEV, key, NOW, plan, PROD, user, warn } from './plan-builders.js'

const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url))
const SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:222222222222:secret:iam-key-rotation/222222222222/ci-bot-AbC123'

let templates: MailTemplates

beforeAll(async () => {
  templates = (await loadTemplates(TEMPLATES_DIR, { bundledDir: TEMPLATES_DIR })).templates
})

function options(overrides: Partial<NotificationOptions> = {}): NotificationOptions {
  return {
    sender: 'security@example.com',
    notifyAccountEmail: true,
    ownerTag: 'owner',
    reminderDays: [1],
    region: 'eu-west-1',
    templates,
    ...overrides
  }
}

const contacts = [DEV, PROD]

function mailTo(mails: readonly Mail[], to: string): Mail {
  const mail = mails.find(m => m.to === to)
  if (!mail) throw new Error(`no mail to ${to}; mails to ${mails.map(m => m.to).join(', ')}`)
  return mail
}

function itemKeys(mail: Mail): string[] {
  return mail.items.map(i => `${i.accountId}/${i.userName}/${i.accessKeyId}/${i.action}`)
}

/** One action for every reason code, as the policy would plan them. */
function everyReasonPlan(mode: 'audit' | 'enforce'): Plan {
  const done = mode === 'enforce' ? ('done' as const) : ('planned' as const)
  const users = [
    user(
      'unused',
      [key('K-UNUSED', 95, { lastUsedAt: 'never' })],
      [action('DEACTIVATE', 'K-UNUSED', 'UNUSED_EXPIRED_KEY', { result: done })]
    ),
    user(
      'expired',
      [key('K-EXP', 91)],
      [
        action('ROTATE', 'K-EXP', 'EXPIRED_ACTIVE_KEY', {
          result: done,
          ...(mode === 'enforce' ? { newAccessKeyId: 'K-EXP-NEW', secretArn: SECRET_ARN } : {})
        })
      ]
    ),
    user(
      'forced',
      [key('K-FORCED', 20)],
      [
        action('ROTATE', 'K-FORCED', 'FORCED_ROTATION', {
          result: mode === 'enforce' ? 'failed' : 'planned',
          ...(mode === 'enforce'
            ? { error: 'storing the new key failed: AccessDenied; the new key was deleted again' }
            : {})
        })
      ]
    ),
    user(
      'lru',
      [key('K-LRU-A', 95), key('K-LRU-B', 30, { lastUsedAt: inDaysAgo(40) })],
      [action('DEACTIVATE', 'K-LRU-B', 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU', { result: done })]
    ),
    user(
      'conflict',
      [key('K-CON-A', 92), key('K-CON-I', 50, { status: 'Inactive' })],
      [
        action('DELETE', 'K-CON-I', 'EXPIRED_INACTIVE_KEY_CONFLICT', { result: done }),
        action('ROTATE', 'K-CON-A', 'EXPIRED_ACTIVE_KEY', {
          result: mode === 'enforce' ? 'skipped' : 'planned',
          ...(mode === 'enforce'
            ? { error: 'the other key could not be deleted, so there is no free key slot' }
            : {})
        })
      ]
    ),
    user(
      'forced-lru',
      [key('K-FLRU-A', 40), key('K-FLRU-B', 60, { lastUsedAt: 'never' })],
      [action('DEACTIVATE', 'K-FLRU-B', 'FORCED_ROTATION_CONFLICT_LRU', { result: done })]
    ),
    user(
      'forced-conflict',
      [key('K-FC-A', 40), key('K-FC-I', 70, { status: 'Inactive' })],
      [action('DELETE', 'K-FC-I', 'FORCED_INACTIVE_KEY_CONFLICT', { result: done })]
    ),
    user(
      'installed',
      [key('K-OLD', 100), key('K-NEW', 10)],
      [
        action('DEACTIVATE', 'K-OLD', 'INSTALL_GRACE_PERIOD_END', {
          result: done,
          oldKeyUsedSinceRotation: true
        })
      ]
    ),
    user(
      'recovered',
      [key('K-GONE', 120, { status: 'Inactive' })],
      [action('DELETE', 'K-GONE', 'RECOVER_GRACE_PERIOD_END', { result: done })]
    ),
    user('pending-rotation', [key('K-PR', 83)], [warn('K-PR', 'KEY_PENDING_ROTATION', 7)]),
    user(
      'pending-deactivation',
      [key('K-PD-OLD', 93), key('K-PD-NEW', 3)],
      [warn('K-PD-OLD', 'KEY_PENDING_DEACTIVATION', 7)]
    ),
    user(
      'pending-deletion',
      [key('K-PDEL', 103, { status: 'Inactive' })],
      [warn('K-PDEL', 'KEY_PENDING_DELETION', 7)]
    ),
    user(
      'expiring-conflict',
      [key('K-EC-A', 89), key('K-EC-B', 20)],
      [warn('K-EC-A', 'KEY_PENDING_EXPIRATION_CONFLICT', 1)]
    ),
    user(
      'deletion-conflict',
      [key('K-DC-A', 83), key('K-DC-I', 5, { status: 'Inactive' })],
      [
        warn('K-DC-I', 'KEY_PENDING_DELETION_CONFLICT', 7),
        warn('K-DC-A', 'KEY_PENDING_ROTATION', 7)
      ]
    ),
    user(
      'unused-soon',
      [key('K-US', 83, { lastUsedAt: 'never' })],
      [warn('K-US', 'UNUSED_KEY_PENDING_DELETION', 7)]
    ),
    user(
      'blocked',
      [key('K-BL-A', 95), key('K-BL-B', 50)],
      [action('BLOCKED', 'K-BL-A', 'ROTATION_BLOCKED_BY_CONFLICT')]
    ),
    user(
      'waits',
      [key('K-WR-A', 95), key('K-WR-I', 100, { status: 'Inactive' })],
      [
        warn('K-WR-I', 'KEY_PENDING_DELETION_CONFLICT', 7),
        warn('K-WR-A', 'ROTATION_WAITS_FOR_RECOVERY', 7)
      ]
    ),
    user(
      'reactivated',
      [key('K-RE-OLD', 105), key('K-RE-NEW', 15)],
      [warn('K-RE-OLD', 'KEY_REACTIVATED', 7)]
    ),
    user(
      'kept-by-owner',
      [key('K-KO-OLD', 130), key('K-KO-NEW', 40)],
      [action('BLOCKED', 'K-KO-OLD', 'ROTATION_BLOCKED_BY_OWNER')]
    ),
    user('not-owned', [key('K-NO', 95)], [action('BLOCKED', 'K-NO', 'SECRET_NOT_OWNED')]),
    user(
      'cannot-read',
      [key('K-CR-OLD', 101), key('K-CR-NEW', 11)],
      [
        {
          ...warn('K-CR-OLD', 'DEACTIVATION_WAITS_FOR_NEW_KEY', 10),
          detail:
            'cannot-read cannot read K-CR-NEW yet: iam-key-rotation-read-own-secret is not attached. Fix: attach it.'
        }
      ]
    ),
    user(
      'still-in-use',
      [key('K-IU-OLD', 101), key('K-IU-NEW', 11)],
      [
        action('BLOCKED', 'K-IU-OLD', 'OLD_KEY_STILL_IN_USE', {
          detail:
            'Last used 2025-05-31T09:00:00.000Z (s3 in us-east-1); it is deactivated once unused for 2 days.'
        })
      ]
    ),
    user(
      'orphan',
      [key('K-OR-A', 95), key('K-OR-B', 1, { lastUsedAt: 'never' })],
      [action('DELETE', 'K-OR-B', 'ORPHAN_KEY_REMOVED', { result: done })]
    ),
    user(
      'changed',
      [key('K-CH', 95)],
      [
        action('ROTATE', 'K-CH', 'STATE_CHANGED', {
          result: mode === 'enforce' ? 'skipped' : 'planned'
        })
      ]
    )
  ]
  return plan(mode, [account(DEV.id, DEV.name, users)])
}

function inDaysAgo(days: number): string {
  return new Date(NOW.getTime() - days * 86_400_000).toISOString()
}

describe('templates for every reason code', () => {
  for (const mode of ['audit', 'enforce'] as const) {
    it(`${mode}: one mail naming every reason code with its sentence and advice`, () => {
      const { mails } = planNotifications(
        everyReasonPlan(mode),
        contacts,
        options({ ownerTag: '' })
      )
      expect(mails).toHaveLength(1)
      const [mail] = mails
      if (!mail) throw new Error('no mail')
      // STATE_TAMPERED is no action: it goes to the summary and a GitHub issue, not to the
      // owner tag, which whoever forged the record may have set as well.
      for (const code of REASON_CODES.filter(code => code !== 'STATE_TAMPERED')) {
        expect(mail.text, code).toContain(code)
        expect(mail.html, code).toContain(code)
      }
      expect(mail.text).toMatchSnapshot()
    })
  }

  it('enforce: a done rotation says where to fetch the new key, never a secret', () => {
    const { mails } = planNotifications(everyReasonPlan('enforce'), contacts, options())
    const mail = mailTo(mails, DEV.email)
    expect(mail.text).toContain('New key: K-EXP-NEW')
    expect(mail.text).toContain(
      'Fetch it from AWS Secrets Manager: secret iam-key-rotation/222222222222/ci-bot in eu-west-1 (account 222222222222)'
    )
    expect(mail.text).toContain(`--secret-id ${SECRET_ARN} --region eu-west-1`)
    expect(mail.html).toContain('iam-key-rotation&#x2F;222222222222&#x2F;ci-bot')
    expect(mail.text).not.toMatch(/SecretAccessKey/i)
    expect(mail.text).toContain('The old key K-EXP stays active until 2025-06-11')
  })

  it('audit: says nothing was changed and shows no new keys', () => {
    const { mails } = planNotifications(everyReasonPlan('audit'), contacts, options())
    const mail = mailTo(mails, DEV.email)
    expect(mail.text).toContain('AUDIT RUN of 2025-06-01: nothing in AWS was changed.')
    expect(mail.html).toContain('Audit run: nothing in AWS was changed.')
    expect(mail.text).not.toContain('New key:')
    expect(mail.text).toContain('planned, nothing changed yet (audit mode)')
  })
})

describe('each item leads with what to do and by when', () => {
  const todoOf = (mode: 'audit' | 'enforce', accessKeyId: string) => {
    const { mails } = planNotifications(everyReasonPlan(mode), contacts, options({ ownerTag: '' }))
    const item = mails[0]?.items.find(i => i.accessKeyId === accessKeyId)
    if (!item) throw new Error(`no item for ${accessKeyId}`)
    return item.todo
  }

  it.each([
    // Dates after a change count from the run (2025-06-01): Gi = Gr = 10 days.
    ['enforce', 'K-EXP', 'Install the new key by 2025-06-11'],
    ['audit', 'K-EXP', 'Would rotate key K-EXP: you would install the new key by 2025-06-11'],
    [
      'enforce',
      'K-FORCED',
      'Keep using key K-FORCED: the rotation failed, the next run tries again'
    ],
    ['enforce', 'K-CH', 'Keep using key K-CH: the rotation was skipped, the next run tries again'],
    ['enforce', 'K-OLD', 'Stop using old key K-OLD: confirm everything works by 2025-06-11'],
    ['audit', 'K-OLD', 'Would deactivate old key K-OLD: stop using it'],
    ['enforce', 'K-UNUSED', 'Confirm nothing needs key K-UNUSED by 2025-06-11'],
    ['enforce', 'K-GONE', 'Nothing to do: key K-GONE was deleted for good'],
    ['audit', 'K-GONE', 'Would delete key K-GONE for good: check that nothing needs it'],
    ['enforce', 'K-OR-B', 'Nothing to do: the unused key K-OR-B was deleted'],
    // Warnings: by their due date.
    ['enforce', 'K-PD-OLD', 'Install the new key by 2025-06-08'],
    [
      'audit',
      'K-PD-OLD',
      'Would deactivate key K-PD-OLD on 2025-06-08: you would install the new key by then'
    ],
    ['enforce', 'K-PR', 'Key K-PR will be rotated on 2025-06-08: be ready to install its new key'],
    ['audit', 'K-PR', 'Key K-PR would be rotated on 2025-06-08'],
    [
      'enforce',
      'K-PDEL',
      'Confirm nothing needs key K-PDEL by 2025-06-08: it is deleted for good then'
    ],
    ['enforce', 'K-US', 'Confirm nobody needs key K-US by 2025-06-08: it is deactivated then'],
    ['audit', 'K-US', 'Would deactivate key K-US on 2025-06-08: check that nobody needs it'],
    [
      'enforce',
      'K-EC-A',
      'Delete or deactivate the key of user expiring-conflict that is no longer needed by 2025-06-02'
    ],
    // Blocked: the fix, no date.
    ['enforce', 'K-BL-A', 'Delete or deactivate the key of user blocked that is no longer needed'],
    ['audit', 'K-NO', 'Delete the secret that blocks the new key, or change secret-name-prefix']
  ] as const)('%s %s: %s', (mode, accessKeyId, todo) => {
    expect(todoOf(mode, accessKeyId)).toBe(todo)
  })

  it('a never-used key about to expire: sentence and advice agree with the key policy', () => {
    const { mails } = planNotifications(everyReasonPlan('enforce'), contacts, options())
    const item = mails[0]?.items.find(i => i.reason === 'UNUSED_KEY_PENDING_DELETION')
    // key-policy.md, step 1: deactivated on the due date, deleted a recovery grace period later.
    expect(item?.sentence).toBe(
      'Key is about to expire and has never been used: it will be deactivated on the due date, then permanently deleted after the recovery grace period.'
    )
    expect(item?.advice).toMatch(/reactivated during the recovery grace period/)
    expect(`${item?.sentence} ${item?.advice}`).not.toMatch(/deleted soon|deleted on the due date/)
    expect(item?.todo).toBe('Confirm nobody needs key K-US by 2025-06-08: it is deactivated then')
  })

  for (const mode of ['audit', 'enforce'] as const) {
    it(`${mode}: the text and the HTML part have the same items in the same order`, () => {
      const [mail] = planNotifications(everyReasonPlan(mode), contacts, options()).mails
      if (!mail) throw new Error('no mail')
      const todos = mail.items.map(item => item.todo)
      const textTodos = [...mail.text.matchAll(/^\* (.*)$/gm)].map(m => m[1])
      const htmlTodos = [...mail.html.matchAll(/<p class="todo"[^>]*>([^<]*)<\/p>/g)].map(m => m[1])
      expect(textTodos).toEqual(todos)
      expect(htmlTodos).toEqual(todos)
      const rotated = mail.items.find(item => item.hasNewKey)
      if (mode === 'audit') return expect(rotated).toBeUndefined()
      if (!rotated) throw new Error('fixture changed')
      // The new key and the command that fetches it come right after the todo.
      for (const part of [mail.text, mail.html]) {
        const block = part.slice(part.indexOf(rotated.todo))
        expect(block.indexOf('K-EXP-NEW')).toBeLessThan(block.indexOf(rotated.sentence))
        expect(block.indexOf('get-secret-value')).toBeLessThan(block.indexOf(rotated.sentence))
      }
    })
  }
})

describe('HTML escaping', () => {
  const hostile = '<script>alert("x")</script>'
  const hostilePlan = () =>
    plan('enforce', [
      account(DEV.id, 'dev & <b>ops</b>', [
        user(
          hostile,
          [key('K1', 95), key('K2', 20)],
          [action('BLOCKED', 'K1', 'ROTATION_BLOCKED_BY_CONFLICT')]
        )
      ])
    ])

  it('escapes user and account names in the HTML part', () => {
    const [mail] = planNotifications(hostilePlan(), contacts, options()).mails
    expect(mail?.html).not.toContain('<script>')
    expect(mail?.html).not.toContain('<b>ops</b>')
    expect(mail?.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt;')
    expect(mail?.html).toContain('dev &amp; &lt;b&gt;ops&lt;&#x2F;b&gt;')
  })

  it('leaves the text part unescaped', () => {
    const [mail] = planNotifications(hostilePlan(), contacts, options()).mails
    expect(mail?.text).toContain(`user ${hostile} in account`)
    expect(mail?.text).toContain('(dev & <b>ops</b>)')
    expect(mail?.text).not.toContain('&lt;')
    expect(mail?.text).not.toContain('&amp;')
  })
})

describe('one digest per recipient', () => {
  const twoAccounts = () =>
    plan('enforce', [
      account(DEV.id, DEV.name, [
        user(
          'ci-bot',
          [key('KA', 95)],
          [action('ROTATE', 'KA', 'EXPIRED_ACTIVE_KEY', { result: 'done' })],
          'team@example.com'
        ),
        user('app', [key('KB', 83)], [warn('KB', 'KEY_PENDING_ROTATION', 7)], 'alice@example.com'),
        user(
          'orphan',
          [key('KC', 95), key('KD', 40)],
          [action('BLOCKED', 'KC', 'ROTATION_BLOCKED_BY_CONFLICT')]
        )
      ]),
      account(PROD.id, PROD.name, [
        user(
          'deploy',
          [key('KE', 120, { status: 'Inactive' })],
          [action('DELETE', 'KE', 'RECOVER_GRACE_PERIOD_END', { result: 'done' })],
          'TEAM@example.com'
        )
      ])
    ])

  it('the account address gets every item of its account, the owner only their users', () => {
    const { mails, warnings } = planNotifications(twoAccounts(), contacts, options())
    expect(warnings).toEqual([])
    expect(mails.map(m => m.to).sort()).toEqual([
      'alice@example.com',
      'dev@example.com',
      'prod@example.com',
      'team@example.com'
    ])
    expect(itemKeys(mailTo(mails, 'dev@example.com'))).toEqual([
      '222222222222/orphan/KC/BLOCKED',
      '222222222222/ci-bot/KA/ROTATE',
      '222222222222/app/KB/WARN'
    ])
    expect(itemKeys(mailTo(mails, 'prod@example.com'))).toEqual(['333333333333/deploy/KE/DELETE'])
    expect(itemKeys(mailTo(mails, 'alice@example.com'))).toEqual(['222222222222/app/KB/WARN'])
  })

  it('an owner of users in several accounts gets one mail (addresses compared without case)', () => {
    const { mails } = planNotifications(twoAccounts(), contacts, options())
    const team = mailTo(mails, 'team@example.com')
    expect(itemKeys(team)).toEqual([
      '222222222222/ci-bot/KA/ROTATE',
      '333333333333/deploy/KE/DELETE'
    ])
    expect(team.subject).toBe(
      '[IAM key rotation · enforce] 1 key rotated, 1 key deleted in 2 accounts'
    )
    expect(team.text).toContain('because IAM users below name you in their "owner" tag')
    expect(mails.filter(m => m.to.toLowerCase() === 'team@example.com')).toHaveLength(1)
  })

  it('an address that is account contact and owner gets one mail with both sets', () => {
    const p = twoAccounts()
    const devUsers = p.accounts[0]?.users ?? []
    devUsers.push(
      user(
        'ops',
        [key('KF', 95)],
        [action('ROTATE', 'KF', 'EXPIRED_ACTIVE_KEY', { result: 'done' })],
        'prod@example.com'
      )
    )
    const { mails } = planNotifications(p, contacts, options())
    const prod = mailTo(mails, 'prod@example.com')
    expect(itemKeys(prod)).toEqual(['222222222222/ops/KF/ROTATE', '333333333333/deploy/KE/DELETE'])
    expect(prod.text).toContain(
      'You receive this mail as the email address of AWS account 333333333333 (prod), and because IAM users below name you in their "owner" tag.'
    )
    expect(mails.filter(m => m.to === 'prod@example.com')).toHaveLength(1)
  })

  it('notify-account-email false: only owners get mail', () => {
    const { mails } = planNotifications(
      twoAccounts(),
      contacts,
      options({ notifyAccountEmail: false })
    )
    expect(mails.map(m => m.to).sort()).toEqual(['alice@example.com', 'team@example.com'])
  })

  it('without an owner tag no owner gets mail', () => {
    const { ownerTag: _, ...withoutOwner } = options()
    const { mails } = planNotifications(twoAccounts(), contacts, withoutOwner)
    expect(mails.map(m => m.to).sort()).toEqual(['dev@example.com', 'prod@example.com'])
  })

  it('an owner tag with several addresses mails each; a value that is no address is a warning', () => {
    const p = plan('enforce', [
      account(DEV.id, DEV.name, [
        user(
          'a',
          [key('KA', 95)],
          [action('BLOCKED', 'KA', 'ROTATION_BLOCKED_BY_CONFLICT')],
          'x@example.com y@example.com'
        ),
        user(
          'b',
          [key('KB', 95)],
          [action('BLOCKED', 'KB', 'ROTATION_BLOCKED_BY_CONFLICT')],
          'team-b'
        )
      ])
    ])
    const { mails, warnings } = planNotifications(
      p,
      contacts,
      options({ notifyAccountEmail: false })
    )
    expect(mails.map(m => m.to).sort()).toEqual(['x@example.com', 'y@example.com'])
    expect(warnings).toEqual([
      'Tag "owner" of IAM user b in account 222222222222 is "team-b", which is not a list of email addresses; the owner gets no mail.'
    ])
  })

  it('an account without a usable email address is a warning', () => {
    const p = plan('enforce', [
      account(DEV.id, DEV.name, [
        user('a', [key('KA', 95)], [action('BLOCKED', 'KA', 'ROTATION_BLOCKED_BY_CONFLICT')])
      ])
    ])
    const { mails, warnings } = planNotifications(p, [{ id: DEV.id, email: '' }], options())
    expect(mails).toEqual([])
    expect(warnings[0]).toContain('Account 222222222222 (dev) has no usable email address')
  })

  it('warnings outside their notification days, failed accounts and exempt users send nothing', () => {
    const p = plan('enforce', [
      account(DEV.id, DEV.name, [
        user('app', [key('KB', 85)], [warn('KB', 'KEY_PENDING_ROTATION', 5)], 'alice@example.com'),
        { ...user('exempt', [key('KX', 200)], []), exempt: true }
      ]),
      account(PROD.id, PROD.name, [], 'failed', 'AccessDenied')
    ])
    expect(planNotifications(p, contacts, options()).mails).toEqual([])
  })

  it('a warning is mailed on entering the window and on reminder days', () => {
    const withWarn = (days: number) =>
      plan('audit', [
        account(DEV.id, DEV.name, [
          user('app', [key('KB', 90 - days)], [warn('KB', 'KEY_PENDING_ROTATION', days)])
        ])
      ])
    const mailedOn = [7, 6, 5, 4, 3, 2, 1].filter(
      days =>
        planNotifications(withWarn(days), contacts, options({ reminderDays: [3, 1] })).mails
          .length > 0
    )
    expect(mailedOn).toEqual([7, 3, 1])
  })

  it('orders mails most severe first', () => {
    const { mails } = planNotifications(twoAccounts(), contacts, options())
    expect(mails.map(m => m.to)).toEqual([
      'dev@example.com',
      'prod@example.com',
      'team@example.com',
      'alice@example.com'
    ])
  })
})

describe('subject', () => {
  const item = (over: Partial<MailItem>): MailItem =>
    ({
      accountId: DEV.id,
      accountName: DEV.name,
      action: 'WARN',
      isFailed: false,
      isSkipped: false,
      ...over
    }) as MailItem

  it.each([
    [
      'enforce',
      [item({ action: 'ROTATE' }), item({}), item({})],
      '[IAM key rotation · enforce] 1 key rotated, 2 warnings in 222222222222 (dev)'
    ],
    [
      'audit',
      [item({ action: 'ROTATE' }), item({ action: 'DELETE' }), item({ action: 'DELETE' })],
      '[IAM key rotation · audit] 1 key to rotate, 2 keys to delete in 222222222222 (dev)'
    ],
    [
      'enforce',
      [
        item({}),
        item({ action: 'DEACTIVATE' }),
        item({ action: 'BLOCKED', accountId: PROD.id, accountName: 'prod' }),
        item({ action: 'ROTATE', isFailed: true }),
        item({ action: 'ROTATE', isSkipped: true })
      ],
      '[IAM key rotation · enforce] 1 rotation blocked, 1 action failed, 1 action skipped, 1 key deactivated, 1 warning in 2 accounts'
    ],
    ['audit', [item({})], '[IAM key rotation · audit] 1 warning in 222222222222 (dev)'],
    [
      'enforce',
      [item({ action: 'BLOCKED', accountName: 'dev\r\nBcc: evil@example.com' })],
      '[IAM key rotation · enforce] 1 rotation blocked in 222222222222 (dev Bcc: evil@example.com)'
    ]
  ] as const)('%s mail %#', (mode, items, subject) => {
    expect(mailSubject(mode, items)).toBe(subject)
  })
})

describe('no secrets in mails', () => {
  const FAKE_SECRET = 'FAKE/SECRET+ACCESS/KEY0000000000000000000'

  it('mails contain only the fields put in them, never a secret-looking value of the plan', () => {
    const p = everyReasonPlan('enforce')
    const rotate = p.accounts[0]?.users[1]?.actions[0]
    if (!rotate) throw new Error('fixture changed')
    // Something that should never be in a plan, slipped into it anyway.
    Object.assign(rotate, { secretAccessKey: FAKE_SECRET, SecretString: FAKE_SECRET })
    p.accounts[0]?.users[1]?.notes?.push(FAKE_SECRET)
    Object.assign(p.accounts[0] ?? {}, { credentials: { SecretAccessKey: FAKE_SECRET } })
    p.warnings.push(FAKE_SECRET)
    const { mails } = planNotifications(p, contacts, options())
    expect(mails.length).toBeGreaterThan(0)
    for (const mail of mails) {
      expect(JSON.stringify(mail)).not.toContain(FAKE_SECRET)
      expect(JSON.stringify(mail)).not.toMatch(/secretAccessKey/i)
    }
  })
})

describe('standing items are not mailed every day', () => {
  const blockedAt = (ageDays: number, mode: 'audit' | 'enforce' = 'enforce') =>
    plan(mode, [
      account(DEV.id, DEV.name, [
        user(
          'orphan',
          [key('KC', ageDays), key('KD', 40)],
          [action('BLOCKED', 'KC', 'ROTATION_BLOCKED_BY_CONFLICT')],
          'team@example.com'
        )
      ])
    ])

  it.each([
    [90, true],
    [93, true],
    [96, true],
    [97, true],
    [98, false],
    [103, false],
    [104, true],
    [111, true],
    [112, false]
  ])('a key blocked at age %i is mailed: %s', (ageDays, mailed) => {
    const { mails } = planNotifications(blockedAt(ageDays), contacts, options())
    expect(mails.length > 0).toBe(mailed)
  })

  it('an audit-mode rotation of a long-expired key is mailed weekly, a done one always', () => {
    const expired = (result: 'planned' | 'done', ageDays: number) =>
      plan(result === 'planned' ? 'audit' : 'enforce', [
        account(DEV.id, DEV.name, [
          user(
            'ci-bot',
            [key('KA', ageDays)],
            [action('ROTATE', 'KA', 'EXPIRED_ACTIVE_KEY', { result })]
          )
        ])
      ])
    expect(planNotifications(expired('planned', 130), contacts, options()).mails).toEqual([])
    expect(planNotifications(expired('planned', 132), contacts, options()).mails).toHaveLength(1)
    expect(planNotifications(expired('done', 130), contacts, options()).mails).toHaveLength(1)
  })
})
