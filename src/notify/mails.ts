import type { Mode } from '../inputs.js'
import type { ActionType, ReasonCode } from '../policy/index.js'
import type {
  ActionResult,
  Plan,
  PlanAccount,
  RunPlan,
  PlanAction,
  PlanUser
} from '../plan/types.js'
import { ownerDomainAllowed } from './owner-domains.js'
import { renderHtml, renderText, type MailTemplates } from './templates.js'
import { DAY_MS, daysUntilDue, shouldNotifyWarning, warningWindowDays } from './warning-days.js'
import { asciiLowerCase } from '../util/ascii.js'
import { plural } from '../util/plural.js'

/** The account's email address from Organizations. `OrgAccount` fits as it is. */
export interface AccountContact {
  readonly id: string
  readonly email: string
}

export interface NotificationOptions {
  /** Verified SES identity used as From. */
  readonly sender: string
  /** Mail the account's email address all of that account's items. */
  readonly notifyAccountEmail: boolean
  /** The IAM tag holding the owner's address; without it no owner gets mail. */
  readonly ownerTag?: string
  /**
   * owner-email-domains: the domains an owner-tag address must be on (lowercase, "*.example.com"
   * for subdomains); empty or absent: any. Account addresses are not filtered.
   */
  readonly ownerEmailDomains?: readonly string[]
  /** Days before a due date on which a warning is mailed again (besides entering the window). */
  readonly reminderDays: readonly number[]
  /** Region of the secrets (aws-region), for secrets named without an ARN. */
  readonly region: string
  readonly templates: MailTemplates
  /** Defaults to the plan's `generatedAt`. */
  readonly now?: Date
  /** Link to the workflow run, shown in the mail. */
  readonly runUrl?: string
}

/** Where a new key can be fetched: the secret, never its value. */
export interface SecretLocation {
  readonly name: string
  readonly arn: string
  readonly region: string
  /** Account holding the secret ('' when the plan names the secret without an ARN). */
  readonly accountId: string
  /** An AWS CLI command that prints the stored key for someone allowed to read it. */
  readonly fetchCommand: string
}

/**
 * One plan action as a mail shows it. Every field is always present (empty string or false when
 * it does not apply): mustache looks a missing name up in the enclosing view, which must never
 * fill an item's blank with something else.
 */
export interface MailItem {
  readonly accountId: string
  readonly accountName: string
  readonly userName: string
  readonly owner: string
  readonly accessKeyId: string
  readonly action: ActionType
  readonly reason: ReasonCode
  /** What to do and by when, e.g. `Install the new key by 2025-06-11`; the item's first line. */
  readonly todo: string
  /** The reason's runbook sentence, or the mail's own where it misstates it (`MAIL_SENTENCES`). */
  readonly sentence: string
  readonly advice: string
  /** The facts behind this item (what blocks it, and the fix), '' when none. */
  readonly hasDetail: boolean
  readonly detail: string
  readonly keyStatus: string
  readonly keyCreatedDate: string
  readonly keyAgeDays: string
  /** The key's age as read: `1 day ago`, `95 days ago`. */
  readonly keyAge: string
  readonly keyLastUsed: string
  readonly hasDue: boolean
  readonly dueAt: string
  readonly dueDate: string
  readonly daysUntilDue: string
  readonly dueIn: string
  readonly result: ActionResult
  readonly resultLabel: string
  readonly isDone: boolean
  readonly isFailed: boolean
  readonly isSkipped: boolean
  readonly isPlanned: boolean
  readonly hasError: boolean
  readonly error: string
  readonly hasNewKey: boolean
  readonly newAccessKeyId: string
  readonly secret: SecretLocation | false
  readonly oldKeyUsedSinceRotation: boolean
  readonly followUp: string
}

export interface MailCounts {
  readonly blocked: number
  readonly rotate: number
  readonly deactivate: number
  readonly delete: number
  readonly warn: number
  readonly failed: number
  readonly skipped: number
  readonly total: number
}

/** What a template sees; templates/README.md lists every field. */
export interface MailView {
  readonly mode: Mode
  readonly isAudit: boolean
  readonly isEnforce: boolean
  readonly subject: string
  readonly recipient: string
  readonly recipientReason: string
  readonly asAccountContact: boolean
  readonly contactAccounts: readonly { readonly accountId: string; readonly accountName: string }[]
  readonly asOwner: boolean
  readonly ownerTag: string
  readonly sender: string
  readonly runId: string
  readonly generatedAt: string
  readonly generatedDate: string
  readonly timeline: string
  readonly policy: Plan['policy']
  readonly region: string
  readonly hasRunUrl: boolean
  readonly runUrl: string
  readonly counts: MailCounts
  readonly hasBlocked: boolean
  readonly blocked: readonly MailItem[]
  readonly hasChanges: boolean
  readonly changes: readonly MailItem[]
  readonly hasWarnings: boolean
  readonly warnings: readonly MailItem[]
  readonly items: readonly MailItem[]
}

export interface Mail {
  readonly from: string
  readonly to: string
  readonly subject: string
  readonly html: string
  readonly text: string
  readonly items: readonly MailItem[]
  /** The recipient is the email address of an account (Organizations), not only an owner. */
  readonly accountContact?: boolean
}

export interface NotificationPlan {
  /** One mail per recipient, most severe first (so a sending quota cuts the least important). */
  readonly mails: Mail[]
  /** Addresses that could not be used, e.g. an owner tag that holds no email address. */
  readonly warnings: string[]
}

/** What the owner should do, per reason; the runbook's sentence says what happened. */
export const REASON_ADVICE: Readonly<Record<ReasonCode, string>> = Object.freeze({
  UNUSED_EXPIRED_KEY:
    'The key was never used, so it is deactivated without a replacement and deleted after the recovery grace period. Nothing to do unless something needs it.',
  EXPIRED_ACTIVE_KEY:
    'A new key is created and stored in Secrets Manager. Install it wherever the old key is used before the old key is deactivated.',
  FORCED_ROTATION:
    'A rotation was requested (force-rotate). A new key is created and stored in Secrets Manager; install it before the old key is deactivated.',
  EXPIRED_ACTIVE_KEY_CONFLICT_LRU:
    'The user had two active keys. The least recently used one is deactivated so that the other can be rotated on a later run. Reactivate it if something still needs it.',
  EXPIRED_INACTIVE_KEY_CONFLICT:
    'The inactive key is deleted to make room for the replacement of the expired active key.',
  FORCED_ROTATION_CONFLICT_LRU:
    'A rotation was requested (force-rotate) but the user had two active keys. The least recently used one is deactivated so that the other can be rotated on a later run.',
  FORCED_INACTIVE_KEY_CONFLICT:
    'A rotation was requested (force-rotate): the inactive key is deleted to make room for the replacement.',
  INSTALL_GRACE_PERIOD_END:
    'The old key is deactivated. Anything still using it fails from now on: switch it to the new key stored in Secrets Manager.',
  RECOVER_GRACE_PERIOD_END: 'The inactive key is deleted for good.',
  KEY_PENDING_ROTATION:
    'The key is rotated on the due date: a new key will be stored in Secrets Manager for you to install.',
  KEY_PENDING_DEACTIVATION:
    'Install the new key from Secrets Manager before the due date: the old key is deactivated then.',
  KEY_PENDING_DELETION:
    'Make sure nothing needs this inactive key any more: it is deleted on the due date.',
  KEY_PENDING_EXPIRATION_CONFLICT:
    'The user has two active keys, so the expiring one cannot be rotated. Delete or deactivate the key that is no longer needed before the due date.',
  KEY_PENDING_DELETION_CONFLICT:
    'The inactive key is deleted on the due date to make room for rotating the active key.',
  UNUSED_KEY_PENDING_DELETION:
    'No replacement is made, since nothing uses it. It can be reactivated during the recovery grace period that follows. Nothing to do if nobody needs it; delete it yourself sooner if you like.',
  ROTATION_BLOCKED_BY_CONFLICT:
    'Delete or deactivate the key that is no longer needed so that the expired key can be rotated on the next run, or let the action choose with conflict-resolution: lru.',
  STATE_CHANGED: 'The keys changed while the run was acting; the next run plans again.',
  STATE_TAMPERED:
    'A record of this tool on the user did not verify, so it was ignored: nothing is deactivated or deleted on it. Ask who changed the iam-key-rotation tags of the user; the GitHub issue has the details.',
  ROTATION_WAITS_FOR_RECOVERY:
    'The expired key is rotated once the inactive key can be deleted safely. Delete the inactive key yourself if nothing needs it, and the rotation happens on the next run.',
  KEY_REACTIVATED:
    'Someone reactivated the old key after it was deactivated. Switch everything to the new key from Secrets Manager before the due date: the old key is deactivated again then.',
  ROTATION_BLOCKED_BY_OWNER:
    'The old key was reactivated a second time, so the action no longer deactivates it. Decide whether it is still needed: deactivate or delete it yourself when nothing uses it.',
  SECRET_NOT_OWNED:
    'The action never writes to a secret it did not create, so the key is not rotated until that secret is gone or secret-name-prefix is changed; the GitHub issue explains how.',
  ORPHAN_KEY_REMOVED:
    'An interrupted run left a new key that nobody received. It was deleted; the rotation runs again. Nothing to do.',
  DEACTIVATION_WAITS_FOR_NEW_KEY:
    'The old key is not deactivated yet, because the user cannot read its new key from Secrets Manager. Fix what the details name; the old key is deactivated on the first run after that.',
  OLD_KEY_STILL_IN_USE:
    'The old key was used recently (old-key-in-use: wait), so it stays active. Move whatever still uses it to the new key from Secrets Manager; it is deactivated once it has gone unused long enough.'
})

/**
 * Mails say what happens to the key, so they replace a runbook sentence that misstates it. The
 * runbook's "permanently deleted soon" for a never-used key is the step after next: the key is
 * deactivated on the due date and deleted a recovery grace period later (key-policy.md, step 1).
 * Plans and issues keep the runbook's words.
 */
export const MAIL_SENTENCES: Readonly<Partial<Record<ReasonCode, string>>> = Object.freeze({
  UNUSED_KEY_PENDING_DELETION:
    'Key is about to expire and has never been used: it will be deactivated on the due date, then permanently deleted after the recovery grace period.'
})

/**
 * An address SES takes, in printable ASCII only: a non-ASCII lookalike (the Kelvin sign lowercases
 * to "k") must neither pass for an allowed domain nor merge with another recipient's address.
 */
const EMAIL = /^[!#-'*+\-./-9=?A-Z^-~]+@[-.0-9A-Za-z]+\.[-.0-9A-Za-z]+$/
/** Addresses taken from one owner tag; more would let one tag spend the run's max-emails. */
export const OWNER_ADDRESSES_PER_TAG = 5
const SECRET_ARN = /^arn:[^:]+:secretsmanager:([^:]+):(\d{12}):secret:(.+)$/
const CHANGE_TYPES = new Set<ActionType>(['ROTATE', 'DEACTIVATE', 'DELETE'])

/** Severity of an item for ordering: BLOCKED > failed or skipped change > change > WARN. */
function severity(item: MailItem): number {
  if (item.action === 'BLOCKED') return 4
  if (item.action === 'WARN') return 1
  return item.isFailed || item.isSkipped ? 3 : 2
}

interface Recipient {
  readonly address: string
  readonly contactFor: Map<string, string>
  owner: boolean
  readonly items: Map<string, { item: MailItem; order: number }>
}

/**
 * The mails of a run: one digest per recipient. The account's email address (when
 * `notifyAccountEmail`) gets every item of its account; an owner (the user's owner tag) gets the
 * items of their own users, across accounts; an address that is both gets one mail. Items are
 * the users' ROTATE, DEACTIVATE, DELETE and BLOCKED actions, and WARN actions on the days
 * `shouldNotifyWarning` picks. Pure: no I/O, the templates are passed in.
 */
export function planNotifications(
  plan: RunPlan,
  contacts: readonly AccountContact[],
  options: NotificationOptions
): NotificationPlan {
  const now = options.now ?? new Date(plan.generatedAt)
  const emails = new Map(contacts.map(contact => [contact.id, contact.email.trim()]))
  const recipients = new Map<string, Recipient>()
  const warnings = new Set<string>()
  let order = 0

  const recipient = (address: string): Recipient => {
    const key = asciiLowerCase(address)
    let entry = recipients.get(key)
    if (!entry) {
      entry = { address, contactFor: new Map(), owner: false, items: new Map() }
      recipients.set(key, entry)
    }
    return entry
  }

  for (const account of plan.accounts) {
    if (account.status !== 'ok') continue
    const accountItems: { user: PlanUser; item: MailItem }[] = []
    for (const user of account.users) {
      if (user.exempt) continue
      for (const action of user.actions) {
        if (!isNotifiable(action, user, plan, now, options.reminderDays)) continue
        accountItems.push({ user, item: toItem(plan, account, user, action, now, options.region) })
      }
    }
    if (accountItems.length === 0) continue

    const accountEmail = emails.get(account.accountId) ?? ''
    if (options.notifyAccountEmail) {
      if (EMAIL.test(accountEmail)) {
        const entry = recipient(accountEmail)
        entry.contactFor.set(account.accountId, account.accountName)
        for (const { item } of accountItems) add(entry, item, order++)
      } else {
        warnings.add(
          `Account ${account.accountId} (${account.accountName}) has no usable email address ("${accountEmail}"); its account mail is not sent.`
        )
      }
    }
    if (options.ownerTag) {
      for (const { user, item } of accountItems) {
        const domains = options.ownerEmailDomains ?? []
        for (const address of ownerAddresses(user, account, options.ownerTag, domains, warnings)) {
          const entry = recipient(address)
          entry.owner = true
          add(entry, item, order++)
        }
      }
    }
  }

  const mails = [...recipients.values()]
    .map(entry => {
      const items = [...entry.items.values()]
        .sort((a, b) => compareItems(a.item, b.item) || a.order - b.order)
        .map(({ item }) => item)
      return buildMail(plan, entry, items, options)
    })
    .sort(
      (a, b) =>
        Math.max(...b.items.map(severity)) - Math.max(...a.items.map(severity)) ||
        a.to.localeCompare(b.to)
    )
  return { mails, warnings: [...warnings] }
}

function add(entry: Recipient, item: MailItem, order: number): void {
  const key = [item.accountId, item.userName, item.accessKeyId, item.action, item.reason].join('/')
  if (!entry.items.has(key)) entry.items.set(key, { item, order })
}

/** A newly expired key is mailed daily for this many days, then weekly while it stands. */
export const STANDING_ITEM_DAILY_DAYS = 7

/** Reasons that stand unchanged day after day until someone acts, counted from the key's expiry. */
const STANDING_REASONS = new Set<PlanAction['reason']>([
  'EXPIRED_ACTIVE_KEY',
  'UNUSED_EXPIRED_KEY',
  'EXPIRED_ACTIVE_KEY_CONFLICT_LRU',
  'ROTATION_BLOCKED_BY_CONFLICT'
])

function isNotifiable(
  action: PlanAction,
  user: PlanUser,
  plan: RunPlan,
  now: Date,
  reminderDays: readonly number[]
): boolean {
  if (action.type === 'WARN') {
    // A WARN without a due date cannot be placed in its window; mailing it every day would spam.
    if (!action.dueAt) return false
    const dueAt = new Date(action.dueAt)
    const window = warningWindowDays(action.reason, plan.policy)
    // Enforce records each announcement (signed): the entry mail goes out on the first run in
    // the window, whichever day that is. Audit writes nothing, so it can only tell the day the
    // window opens: a skipped run on that day loses the entry mail (the reminders still come).
    if (plan.mode === 'enforce' && action.firstNotice !== undefined) {
      const left = daysUntilDue(dueAt, now)
      if (left < 1 || left > window) return false
      return action.firstNotice || reminderDays.includes(left)
    }
    return shouldNotifyWarning(dueAt, now, window, reminderDays)
  }
  // What happened (done, failed, skipped) is mailed the day it happens. An expired key that
  // stays as it is (blocked, or audit mode only planning) would be mailed every day: it is mailed
  // daily in its first week after expiry, then weekly.
  if (action.result !== 'planned' || !STANDING_REASONS.has(action.reason)) return true
  const key = user.keys.find(candidate => candidate.accessKeyId === action.accessKeyId)
  if (!key) return true
  const daysExpired = key.ageDays - plan.policy.R
  return daysExpired < STANDING_ITEM_DAILY_DAYS || daysExpired % STANDING_ITEM_DAILY_DAYS === 0
}

/**
 * The owner tag may hold several addresses separated by spaces (IAM tag values allow no comma).
 * A member account's administrators can set the tag, so only addresses on owner-email-domains
 * (when set) are used; the others are reported.
 */
function ownerAddresses(
  user: PlanUser,
  account: PlanAccount,
  ownerTag: string,
  domains: readonly string[],
  warnings: Set<string>
): string[] {
  if (!user.owner) return []
  const parts = user.owner.split(/\s+/).filter(part => part !== '')
  const addresses = parts.filter(part => EMAIL.test(part))
  if (addresses.length < parts.length) {
    warnings.add(
      `Tag "${ownerTag}" of IAM user ${user.userName} in account ${account.accountId} is "${user.owner}", which is not a list of email addresses; ${addresses.length === 0 ? 'the owner gets no mail' : 'only the valid addresses get mail'}.`
    )
  }
  const valid = addresses.slice(0, OWNER_ADDRESSES_PER_TAG)
  if (addresses.length > valid.length) {
    warnings.add(
      `Tag "${ownerTag}" of IAM user ${user.userName} in account ${account.accountId} names ${addresses.length} addresses; only the first ${OWNER_ADDRESSES_PER_TAG} get mail.`
    )
  }
  const allowed = valid.filter(address => ownerDomainAllowed(address, domains))
  const refused = valid.filter(address => !allowed.includes(address))
  if (refused.length > 0) {
    warnings.add(
      `Tag "${ownerTag}" of IAM user ${user.userName} in account ${account.accountId} names ${refused.join(', ')}, on ${refused.length === 1 ? 'a domain' : 'domains'} not in owner-email-domains (${domains.join(', ')}); ${refused.length === 1 ? 'that address gets' : 'those addresses get'} no owner mail.`
    )
  }
  return allowed
}

function compareItems(a: MailItem, b: MailItem): number {
  return (
    severity(b) - severity(a) ||
    a.accountId.localeCompare(b.accountId) ||
    a.userName.localeCompare(b.userName)
  )
}

function toItem(
  plan: RunPlan,
  account: PlanAccount,
  user: PlanUser,
  action: PlanAction,
  now: Date,
  region: string
): MailItem {
  const key = user.keys.find(k => k.accessKeyId === action.accessKeyId)
  const due = action.dueAt ? new Date(action.dueAt) : undefined
  const left = due ? daysUntilDue(due, now) : undefined
  const secret =
    action.type === 'ROTATE' && action.secretArn ? secretLocation(action.secretArn, region) : false
  return {
    accountId: account.accountId,
    accountName: account.accountName,
    userName: user.userName,
    owner: user.owner ?? '',
    accessKeyId: action.accessKeyId,
    action: action.type,
    reason: action.reason,
    todo: todo(plan, user.userName, action, now),
    sentence: MAIL_SENTENCES[action.reason] ?? action.message,
    advice: REASON_ADVICE[action.reason],
    hasDetail: Boolean(action.detail),
    detail: action.detail ?? '',
    keyStatus: key?.status ?? '',
    keyCreatedDate: key ? day(key.createdAt) : '',
    keyAgeDays: key ? String(key.ageDays) : '',
    keyAge: key ? (key.ageDays === 1 ? '1 day ago' : `${key.ageDays} days ago`) : '',
    keyLastUsed: key ? day(key.lastUsedAt) : '',
    hasDue: due !== undefined,
    dueAt: action.dueAt ?? '',
    dueDate: action.dueAt ? day(action.dueAt) : '',
    daysUntilDue: left === undefined ? '' : String(left),
    dueIn: left === undefined ? '' : dueIn(left),
    result: action.result,
    resultLabel: resultLabel(plan.mode, action.result),
    isDone: action.result === 'done',
    isFailed: action.result === 'failed',
    isSkipped: action.result === 'skipped',
    isPlanned: action.result === 'planned',
    hasError: Boolean(action.error),
    error: action.error ?? '',
    hasNewKey: Boolean(action.newAccessKeyId),
    newAccessKeyId: action.newAccessKeyId ?? '',
    secret,
    oldKeyUsedSinceRotation: action.oldKeyUsedSinceRotation === true,
    followUp: followUp(plan, action, now)
  }
}

function secretLocation(arnOrName: string, defaultRegion: string): SecretLocation {
  const match = SECRET_ARN.exec(arnOrName)
  const region = match?.[1] ?? defaultRegion
  // Secrets Manager appends "-" and six random characters to the name in the ARN.
  const name = match?.[3] ? match[3].replace(/-[A-Za-z0-9]{6}$/, '') : arnOrName
  return {
    name,
    arn: match ? arnOrName : '',
    region,
    accountId: match?.[2] ?? '',
    fetchCommand: `aws secretsmanager get-secret-value --secret-id ${arnOrName} --region ${region} --query SecretString --output text`
  }
}

function followUp(plan: RunPlan, action: PlanAction, now: Date): string {
  if (action.result !== 'done') return ''
  const after = (days: number) => day(new Date(now.getTime() + days * DAY_MS).toISOString())
  switch (action.type) {
    case 'ROTATE':
      return `The old key ${action.accessKeyId} stays active until ${after(plan.policy.Gi)} (installation grace period of ${plan.policy.Gi} days) and is deactivated after that.`
    case 'DEACTIVATE':
      return `The key can be reactivated until ${after(plan.policy.Gr)} (recovery grace period of ${plan.policy.Gr} days); it is deleted after that.`
    case 'DELETE':
    case 'WARN':
    case 'BLOCKED':
      return ''
  }
}

interface TodoFacts {
  readonly key: string
  readonly userName: string
  /** `YYYY-MM-DD`, or '' when the action has no due date. */
  readonly due: string
  readonly audit: boolean
}

const by = (f: TodoFacts) => (f.due ? ` by ${f.due}` : '')
const on = (f: TodoFacts) => (f.due ? ` on ${f.due}` : '')
const atTheLatest = (f: TodoFacts) => (f.due ? `, ${f.due} at the latest` : '')
const pendingDeletion = (f: TodoFacts) =>
  f.audit
    ? `Would delete key ${f.key} for good${on(f)}: check that nothing needs it`
    : `Confirm nothing needs key ${f.key}${by(f)}: it is deleted for good then`

/** The first line of a WARN, per reason; a reason not listed gets `Act on key … by DUE`. */
const WARN_TODO: Readonly<Partial<Record<ReasonCode, (f: TodoFacts) => string>>> = {
  KEY_PENDING_ROTATION: f =>
    f.audit
      ? `Key ${f.key} would be rotated${on(f)}`
      : `Key ${f.key} will be rotated${on(f)}: be ready to install its new key`,
  KEY_PENDING_DEACTIVATION: f =>
    f.audit
      ? `Would deactivate key ${f.key}${on(f)}: you would install the new key by then`
      : `Install the new key${by(f)}`,
  KEY_REACTIVATED: f =>
    f.audit
      ? `Would deactivate key ${f.key} again${on(f)}: you would switch to the new key by then`
      : `Switch to the new key${by(f)}: key ${f.key} is deactivated again then`,
  KEY_PENDING_DELETION: pendingDeletion,
  KEY_PENDING_DELETION_CONFLICT: pendingDeletion,
  UNUSED_KEY_PENDING_DELETION: f =>
    f.audit
      ? `Would deactivate key ${f.key}${on(f)}: check that nobody needs it`
      : `Confirm nobody needs key ${f.key}${by(f)}: it is deactivated then`,
  KEY_PENDING_EXPIRATION_CONFLICT: f =>
    `Delete or deactivate the key of user ${f.userName} that is no longer needed${by(f)}`,
  ROTATION_WAITS_FOR_RECOVERY: f =>
    f.audit
      ? `Would rotate key ${f.key} once the inactive key is deleted${atTheLatest(f)}`
      : `Delete the inactive key if nothing needs it: key ${f.key} is rotated then${atTheLatest(f)}`,
  DEACTIVATION_WAITS_FOR_NEW_KEY: f =>
    `Let user ${f.userName} read the new key${by(f)} (see the details)`
}

/** The first line of a BLOCKED, per reason; a reason not listed gets `Fix what blocks key …`. */
const BLOCKED_TODO: Readonly<Partial<Record<ReasonCode, (f: TodoFacts) => string>>> = {
  ROTATION_BLOCKED_BY_CONFLICT: f =>
    `Delete or deactivate the key of user ${f.userName} that is no longer needed`,
  ROTATION_BLOCKED_BY_OWNER: f =>
    `Decide whether key ${f.key} is still needed: deactivate or delete it yourself`,
  SECRET_NOT_OWNED: () => 'Delete the secret that blocks the new key, or change secret-name-prefix',
  OLD_KEY_STILL_IN_USE: f => `Move whatever still uses key ${f.key} to the new key`,
  DEACTIVATION_WAITS_FOR_NEW_KEY: f => `Let user ${f.userName} read the new key (see the details)`,
  STATE_TAMPERED: f => `Ask who changed the iam-key-rotation tags of user ${f.userName}`
}

/**
 * The item's first line: what the recipient does and by when (YYYY-MM-DD). Dates after a change
 * count from this run, as `followUp` does. Audit mode changes nothing, so its lines say what
 * enforce mode would do.
 */
function todo(plan: RunPlan, userName: string, action: PlanAction, now: Date): string {
  const facts: TodoFacts = {
    key: action.accessKeyId,
    userName,
    due: action.dueAt ? day(action.dueAt) : '',
    audit: plan.mode === 'audit'
  }
  const after = (days: number) => day(new Date(now.getTime() + days * DAY_MS).toISOString())
  switch (action.type) {
    case 'ROTATE':
    case 'DEACTIVATE':
    case 'DELETE':
      return changeTodo(plan, action, action.type, after)
    case 'WARN':
      return WARN_TODO[action.reason]?.(facts) ?? `Act on key ${facts.key}${by(facts)}: see below`
    case 'BLOCKED':
      return BLOCKED_TODO[action.reason]?.(facts) ?? `Fix what blocks key ${facts.key}: see below`
  }
}

function changeTodo(
  plan: RunPlan,
  action: PlanAction,
  type: 'ROTATE' | 'DEACTIVATE' | 'DELETE',
  after: (days: number) => string
): string {
  const key = action.accessKeyId
  const installBy = after(plan.policy.Gi)
  const reactivateBy = after(plan.policy.Gr)
  const oldKey = action.reason === 'INSTALL_GRACE_PERIOD_END'
  const orphan = action.reason === 'ORPHAN_KEY_REMOVED'
  if (action.result === 'failed' || action.result === 'skipped') {
    const what = action.result === 'failed' ? 'failed' : 'was skipped'
    switch (type) {
      case 'ROTATE':
        return `Keep using key ${key}: the rotation ${what}, the next run tries again`
      case 'DEACTIVATE':
        return `Nothing to do yet: deactivating key ${key} ${what}, the next run tries again`
      case 'DELETE':
        return `Nothing to do yet: deleting key ${key} ${what}, the next run tries again`
    }
  }
  if (action.result === 'planned' && plan.mode === 'enforce') {
    return `Nothing to do yet: this run stopped before acting on key ${key}, the next run does it`
  }
  if (action.result === 'planned') {
    switch (type) {
      case 'ROTATE':
        return `Would rotate key ${key}: you would install the new key by ${installBy}`
      case 'DEACTIVATE':
        return oldKey
          ? `Would deactivate old key ${key}: stop using it`
          : `Would deactivate key ${key}: check that nothing needs it`
      case 'DELETE':
        return orphan
          ? `Would delete the unused key ${key}: nothing to do`
          : `Would delete key ${key} for good: check that nothing needs it`
    }
  }
  switch (type) {
    case 'ROTATE':
      return `Install the new key by ${installBy}`
    case 'DEACTIVATE':
      return oldKey
        ? `Stop using old key ${key}: confirm everything works by ${reactivateBy}`
        : `Confirm nothing needs key ${key} by ${reactivateBy}`
    case 'DELETE':
      return orphan
        ? `Nothing to do: the unused key ${key} was deleted`
        : `Nothing to do: key ${key} was deleted for good`
  }
}

function resultLabel(mode: Mode, result: ActionResult): string {
  switch (result) {
    case 'planned':
      return mode === 'audit' ? 'planned, nothing changed yet (audit mode)' : 'planned'
    case 'done':
      return 'done'
    case 'failed':
      return 'FAILED'
    case 'skipped':
      return 'skipped'
  }
}

function dueIn(days: number): string {
  if (days < 0) return 'overdue'
  if (days === 0) return 'today'
  if (days === 1) return 'tomorrow'
  return `in ${days} days`
}

function day(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : iso
}

export function countItems(items: readonly MailItem[]): MailCounts {
  const count = (predicate: (item: MailItem) => boolean) => items.filter(predicate).length
  const change = (type: ActionType) => (item: MailItem) =>
    item.action === type && !item.isFailed && !item.isSkipped
  return {
    blocked: count(item => item.action === 'BLOCKED'),
    rotate: count(change('ROTATE')),
    deactivate: count(change('DEACTIVATE')),
    delete: count(change('DELETE')),
    warn: count(item => item.action === 'WARN'),
    failed: count(item => CHANGE_TYPES.has(item.action) && item.isFailed),
    skipped: count(item => CHANGE_TYPES.has(item.action) && item.isSkipped),
    total: items.length
  }
}

/**
 * The subject: `[IAM key rotation · MODE] PARTS in WHERE`. PARTS are the counts, most severe
 * first: blocked rotations, failed and skipped actions, rotated / deactivated / deleted keys (in
 * audit mode: keys to rotate / deactivate / delete), warnings. WHERE is `ID (NAME)` for one
 * account, else `N accounts`. E.g.
 * `[IAM key rotation · enforce] 1 key rotated, 2 warnings in 222222222222 (dev)`.
 */
export function mailSubject(mode: Mode, items: readonly MailItem[]): string {
  const counts = countItems(items)
  const done = mode === 'enforce'
  const keys = (count: number, verbDone: string, verbPlanned: string) =>
    `${plural(count, 'key')} ${done ? verbDone : `to ${verbPlanned}`}`
  const parts = [
    counts.blocked > 0 ? `${plural(counts.blocked, 'rotation')} blocked` : '',
    counts.failed > 0 ? `${plural(counts.failed, 'action')} failed` : '',
    counts.skipped > 0 ? `${plural(counts.skipped, 'action')} skipped` : '',
    counts.rotate > 0 ? keys(counts.rotate, 'rotated', 'rotate') : '',
    counts.deactivate > 0 ? keys(counts.deactivate, 'deactivated', 'deactivate') : '',
    counts.delete > 0 ? keys(counts.delete, 'deleted', 'delete') : '',
    counts.warn > 0 ? plural(counts.warn, 'warning') : ''
  ].filter(part => part !== '')
  const accounts = new Map(items.map(item => [item.accountId, item.accountName]))
  const [only] = accounts
  const where =
    accounts.size === 1 && only ? `${only[0]} (${only[1]})` : `${accounts.size} accounts`
  const subject = `[IAM key rotation · ${mode}] ${parts.join(', ')} in ${where}`
  // A subject is one header line.
  return subject.replace(/[\r\n\t]+/g, ' ')
}

function buildMail(
  plan: RunPlan,
  entry: Recipient,
  items: readonly MailItem[],
  options: NotificationOptions
): Mail {
  const contactAccounts = [...entry.contactFor].map(([accountId, accountName]) => ({
    accountId,
    accountName
  }))
  const view = mailView(
    plan,
    { address: entry.address, contactAccounts, asOwner: entry.owner },
    items,
    options
  )
  const templates = options.templates[plan.mode]
  return {
    from: options.sender,
    to: entry.address,
    subject: view.subject,
    html: renderHtml(templates.html, view),
    text: renderText(templates.text, view),
    items,
    accountContact: entry.contactFor.size > 0
  }
}

/** The view a recipient's templates are rendered with (templates/README.md lists it). */
export function mailView(
  plan: RunPlan,
  recipient: {
    readonly address: string
    readonly contactAccounts: MailView['contactAccounts']
    readonly asOwner: boolean
  },
  items: readonly MailItem[],
  options: Pick<NotificationOptions, 'sender' | 'ownerTag' | 'region' | 'runUrl'>
): MailView {
  const { contactAccounts, asOwner } = recipient
  const blocked = items.filter(item => item.action === 'BLOCKED')
  const changes = items.filter(item => CHANGE_TYPES.has(item.action))
  const warnings = items.filter(item => item.action === 'WARN')
  return {
    mode: plan.mode,
    isAudit: plan.mode === 'audit',
    isEnforce: plan.mode === 'enforce',
    subject: mailSubject(plan.mode, items),
    recipient: recipient.address,
    recipientReason: recipientReason(contactAccounts, asOwner, options.ownerTag ?? ''),
    asAccountContact: contactAccounts.length > 0,
    contactAccounts,
    asOwner,
    ownerTag: options.ownerTag ?? '',
    sender: options.sender,
    runId: plan.runId,
    generatedAt: plan.generatedAt,
    generatedDate: day(plan.generatedAt),
    timeline: plan.timeline,
    policy: plan.policy,
    region: options.region,
    hasRunUrl: Boolean(options.runUrl),
    runUrl: options.runUrl ?? '',
    counts: countItems(items),
    hasBlocked: blocked.length > 0,
    blocked,
    hasChanges: changes.length > 0,
    changes,
    hasWarnings: warnings.length > 0,
    warnings,
    items
  }
}

function recipientReason(
  contactAccounts: readonly { accountId: string; accountName: string }[],
  owner: boolean,
  ownerTag: string
): string {
  const parts: string[] = []
  if (contactAccounts.length > 0) {
    const list = contactAccounts.map(a => `${a.accountId} (${a.accountName})`).join(', ')
    parts.push(
      `as the email address of AWS ${contactAccounts.length === 1 ? 'account' : 'accounts'} ${list}`
    )
  }
  if (owner) {
    parts.push(`because IAM users below name you in their "${ownerTag}" tag`)
  }
  return `You receive this mail ${parts.join(', and ')}.`
}
