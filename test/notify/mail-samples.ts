import { fileURLToPath } from 'node:url'
import type { Mode } from '../../src/inputs.js'
import { planNotifications, type Mail } from '../../src/notify/mails.js'
import { loadTemplates } from '../../src/notify/templates.js'
import type { Plan, PlanAction } from '../../src/plan/types.js'
import { account, action, DEV, key, plan, PROD, user, warn } from './plan-builders.js'

// A mail as long and as awkward as real ones get: several items of every action type, the
// longest names IAM and Organizations allow, and markup where AWS lets anyone put text. The
// browser rendering test and `npm run preview:mails` both use it.

const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url))

export const OWNER = 'key-owners@example.com'

/** Markup that must reach the reader as text: account names and AWS error texts allow it. */
export const HOSTILE_MARKUP = '<img src=x onerror=alert(1)><script>alert("x")</script>'

export const HOSTILE = {
  /** 64 characters, the IAM maximum, without a space to break at. */
  userName: 'svc.payments-reconciliation-nightly-export+eu=1@ledger.example.co',
  /** Organizations allows any printable ASCII in an account name. */
  accountName: `dev & <b>ops</b> "legacy"`,
  /** Access key ids may be up to 128 characters; these are made up. */
  keyId: (n: number) => `KEYID-EXAMPLE-LONG-FORMAT-${String(n).padStart(14, '0')}`,
  error: `User: arn:aws:sts::222222222222:assumed-role/iam-key-rotation-member-role/GitHubActions-9876543210-1 is not authorized to perform: secretsmanager:CreateSecret on resource: arn:aws:secretsmanager:eu-west-1:222222222222:secret:iam-key-rotation/222222222222/svc.payments-reconciliation-nightly-export+eu=1@ledger.example.co because no identity-based policy allows the secretsmanager:CreateSecret action ${HOSTILE_MARKUP}`,
  detail: `svc.payments-reconciliation-nightly-export+eu=1@ledger.example.co cannot read KEYID-EXAMPLE-LONG-FORMAT-00000000000012 yet: iam-key-rotation-read-own-secret-policy-for-arn:aws:iam::222222222222:user/svc is not attached. Fix: attach it. ${HOSTILE_MARKUP}`
}

export const sampleSecretArn = (userName: string, accountId = DEV.id) =>
  `arn:aws:secretsmanager:eu-west-1:${accountId}:secret:iam-key-rotation/${accountId}/${userName}-AbC123`

const RUN_URL =
  'https://github.com/example-org/aws-iam-key-rotation/actions/runs/98765432100/attempts/1'

/** The enforce plan; audit mode is the same plan with nothing done. */
function enforcePlan(): Plan {
  const long = HOSTILE.userName
  const k = HOSTILE.keyId
  const rotated = (userName: string, accountId = DEV.id) => ({
    result: 'done' as const,
    newAccessKeyId: k(accountId === DEV.id ? 100 : 200),
    secretArn: sampleSecretArn(userName, accountId)
  })
  return plan('enforce', [
    account(DEV.id, HOSTILE.accountName, [
      user(
        long,
        [key(k(1), 95), key(k(2), 40)],
        [action('BLOCKED', k(1), 'ROTATION_BLOCKED_BY_CONFLICT')],
        OWNER
      ),
      user(
        'billing-exporter',
        [key(k(3), 95)],
        [action('BLOCKED', k(3), 'SECRET_NOT_OWNED', { detail: HOSTILE.detail })],
        OWNER
      ),
      user(
        'ci-deploy',
        [key(k(4), 91)],
        [action('ROTATE', k(4), 'FORCED_ROTATION', { result: 'failed', error: HOSTILE.error })],
        OWNER
      ),
      user(
        'ci-bot',
        [key(k(5), 92)],
        [
          action('ROTATE', k(5), 'EXPIRED_ACTIVE_KEY', {
            result: 'skipped',
            error: 'the keys changed between planning and acting'
          })
        ],
        OWNER
      ),
      user(
        `${long.slice(0, 60)}.old`,
        [key(k(6), 100), key(k(7), 10)],
        [
          action('DEACTIVATE', k(6), 'INSTALL_GRACE_PERIOD_END', {
            result: 'failed',
            error: HOSTILE.error
          })
        ],
        OWNER
      ),
      user(
        'reports',
        [key(k(8), 93)],
        [action('ROTATE', k(8), 'EXPIRED_ACTIVE_KEY', rotated('reports'))],
        OWNER
      ),
      user(
        long.replace('svc.', 'app.'),
        [key(k(9), 91)],
        [action('ROTATE', k(9), 'EXPIRED_ACTIVE_KEY', rotated(long.replace('svc.', 'app.')))],
        OWNER
      ),
      user(
        'legacy-sftp',
        [key(k(10), 101), key(k(11), 11)],
        [
          action('DEACTIVATE', k(10), 'INSTALL_GRACE_PERIOD_END', {
            result: 'done',
            oldKeyUsedSinceRotation: true
          })
        ],
        OWNER
      ),
      user(
        'never-used',
        [key(k(12), 95, { lastUsedAt: 'never' })],
        [action('DEACTIVATE', k(12), 'UNUSED_EXPIRED_KEY', { result: 'done' })],
        OWNER
      ),
      user(
        'old-inactive',
        [key(k(13), 120, { status: 'Inactive' })],
        [action('DELETE', k(13), 'RECOVER_GRACE_PERIOD_END', { result: 'done' })],
        OWNER
      ),
      user(
        'pending-deactivation',
        [key(k(14), 93), key(k(15), 3)],
        [{ ...warn(k(14), 'KEY_PENDING_DEACTIVATION', 7), oldKeyUsedSinceRotation: true }],
        OWNER
      ),
      user(
        long.replace('svc.', 'job.'),
        [key(k(16), 83)],
        [warn(k(16), 'KEY_PENDING_ROTATION', 7)],
        OWNER
      ),
      user(
        'unused-soon',
        [key(k(17), 89, { lastUsedAt: 'never' })],
        [warn(k(17), 'UNUSED_KEY_PENDING_DELETION', 1)],
        OWNER
      )
    ]),
    account(PROD.id, PROD.name, [
      user(
        'still-in-use',
        [key(k(20), 101), key(k(21), 11)],
        [
          action('BLOCKED', k(20), 'OLD_KEY_STILL_IN_USE', {
            detail:
              'Last used 2025-05-31T09:00:00.000Z (s3 in eu-west-1); it is deactivated once unused for 2 days, from 2025-06-02T09:00:00.000Z. Move that caller to the new key.'
          })
        ],
        OWNER
      ),
      user(
        'etl',
        [key(k(22), 91)],
        [action('ROTATE', k(22), 'EXPIRED_ACTIVE_KEY', rotated('etl', PROD.id))],
        OWNER
      ),
      user(
        'conflict',
        [key(k(23), 92), key(k(24), 50, { status: 'Inactive' })],
        [
          action('DELETE', k(24), 'EXPIRED_INACTIVE_KEY_CONFLICT', { result: 'done' }),
          action('DEACTIVATE', k(23), 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU', { result: 'done' })
        ],
        OWNER
      ),
      user(
        'cannot-read',
        [key(k(25), 101), key(k(26), 11)],
        [{ ...warn(k(25), 'DEACTIVATION_WAITS_FOR_NEW_KEY', 10), detail: HOSTILE.detail }],
        OWNER
      )
    ])
  ])
}

function auditPlan(): Plan {
  const p = enforcePlan()
  for (const planAccount of p.accounts) {
    for (const planUser of planAccount.users) {
      planUser.actions = planUser.actions.map(
        ({ newAccessKeyId: _key, secretArn: _arn, error: _error, ...rest }): PlanAction => ({
          ...rest,
          result: 'planned'
        })
      )
    }
  }
  return { ...p, mode: 'audit' }
}

export function samplePlan(mode: Mode): Plan {
  return mode === 'audit' ? auditPlan() : enforcePlan()
}

export const SAMPLE_MODES: readonly Mode[] = ['audit', 'enforce']

/** Viewport widths: a phone, and a desktop mail client's reading pane. */
export const SAMPLE_WIDTHS = [420, 900] as const

/** The owner's digest of the sample plan, rendered with the bundled templates. */
export async function sampleMail(mode: Mode): Promise<Mail> {
  const { templates } = await loadTemplates(TEMPLATES_DIR, { bundledDir: TEMPLATES_DIR })
  const { mails } = planNotifications(samplePlan(mode), [DEV, PROD], {
    sender: 'security@example.com',
    notifyAccountEmail: false,
    ownerTag: 'owner',
    reminderDays: [1],
    region: 'eu-west-1',
    templates,
    runUrl: RUN_URL
  })
  const mail = mails.find(candidate => candidate.to === OWNER)
  if (!mail || mails.length !== 1) throw new Error(`the sample plan should mail ${OWNER} only`)
  return mail
}
