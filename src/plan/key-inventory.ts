import type {
  ExemptReason,
  KeyFacts,
  KeyRecord,
  PlannedAction,
  PolicyParams,
  ReasonCode,
  UserDecision
} from '../policy/index.js'

// The inventory's two verdicts on each key (keys.csv, the outlook), as pure functions of the key,
// its user's keys and decision (evaluateUser's output), the policy and `now`. They read the
// decision first and the policy's timeline (key-policy.md) only where the decision is silent:
// a key with nothing due inside the warning window.

const DAY_MS = 86_400_000

/** One scanned user as the inventory needs it: every key, and what the policy decided. */
export interface InventoryUser {
  readonly userName: string
  readonly exempt: boolean
  readonly exemptReason?: ExemptReason
  readonly keys: readonly KeyFacts[]
  readonly decision: Pick<UserDecision, 'actions' | 'trusted' | 'lifecycleUpdates'>
  /**
   * false: the keys are known only by their credential report slot (the scan looked up no ids
   * for a user with nothing to do); their `accessKeyId` is a placeholder, never to be shown.
   */
  readonly idsKnown: boolean
}

export type NextActionType = 'ROTATE' | 'DEACTIVATE' | 'DELETE' | 'BLOCKED' | 'none'

/** The next change the tool makes to a key if nothing else changes, when, and the reason code. */
export interface NextAction {
  readonly type: NextActionType
  /** Absent for `none`. The run's time for a change planned in this run; past: overdue, held. */
  readonly at?: Date
  readonly reason?: ReasonCode
}

/**
 * Whether a key is within the key policy now:
 *
 * - a key of an exempt user: yes (the policy does not evaluate it; the inventory says why);
 * - an Active key: yes while younger than R days, or while it is the old key of a rotation by
 *   this tool (trusted state names its replacement, which the user still has) within the
 *   installation grace, rotatedAt + Gi; otherwise no;
 * - an Inactive key: yes while its recovery window runs (now < t0 + Gr, t0 = deactivatedAt, else
 *   firstSeenInactiveAt, else now: first sighting), no once its deletion is due.
 *
 * Every bound is exclusive, as in the policy: a key is expired at exactly R days.
 */
export function withinPolicy(
  key: KeyFacts,
  user: InventoryUser,
  params: PolicyParams,
  now: Date
): boolean {
  if (user.exempt) return true
  if (key.status === 'Inactive') return before(now, recoveryEndsAt(key, user, params, now))
  if (before(now, addDays(key.createdAt, params.rotationDays))) return true
  const rotatedAt = rotationOf(key, user)
  return rotatedAt !== undefined && before(now, addDays(rotatedAt, params.installationGraceDays))
}

/**
 * The key's next change:
 *
 * 1. exempt user: none;
 * 2. a change the decision plans for the key in this run (ROTATE, DEACTIVATE, DELETE or BLOCKED,
 *    in execution order): that, at `now`;
 * 3. a warning of the decision: the change it warns of, at its due date (`WARNED_CHANGE`;
 *    KEY_PENDING_EXPIRATION_CONFLICT: BLOCKED, or with conflict-resolution `lru` DEACTIVATE);
 * 4. otherwise the policy's timeline: an Inactive key is deleted at t0 + Gr; the old key of a
 *    rotation by this tool is deactivated at rotatedAt + Gi; a never-used Active key is
 *    deactivated at created + R; an Active key beside another Active key that is not its
 *    rotation (and that this run does not deactivate or delete) is BLOCKED at created + R
 *    (conflict-resolution `lru`: DEACTIVATE, of the least recently used key then); any other
 *    Active key is rotated at created + R.
 *
 * A date in the past under 4 means the change is due but held (e.g. the key's last use is
 * unknown); the plan's notes say why.
 */
export function nextAction(
  key: KeyFacts,
  user: InventoryUser,
  params: PolicyParams,
  now: Date
): NextAction {
  if (user.exempt) return { type: 'none' }
  const actions = user.decision.actions.filter(action => action.accessKeyId === key.accessKeyId)
  const change = actions.find(action => action.type !== 'WARN')
  if (change && change.type !== 'WARN') {
    return { type: change.type, at: now, reason: change.reason }
  }
  for (const warning of actions) {
    const type = warnedChange(warning, params)
    if (type && warning.dueAt) return { type, at: warning.dueAt, reason: warning.reason }
  }
  return scheduled(key, user, params, now)
}

/** The change each warning announces: the action due at its `dueAt`. */
const WARNED_CHANGE: Partial<Record<ReasonCode, NextActionType>> = {
  KEY_PENDING_ROTATION: 'ROTATE',
  ROTATION_WAITS_FOR_RECOVERY: 'ROTATE',
  KEY_PENDING_DEACTIVATION: 'DEACTIVATE',
  KEY_REACTIVATED: 'DEACTIVATE',
  UNUSED_KEY_PENDING_DELETION: 'DEACTIVATE',
  KEY_PENDING_DELETION: 'DELETE',
  KEY_PENDING_DELETION_CONFLICT: 'DELETE',
  // Its due date is when the wait for the user to read the new key becomes BLOCKED.
  DEACTIVATION_WAITS_FOR_NEW_KEY: 'BLOCKED'
}

function warnedChange(warning: PlannedAction, params: PolicyParams): NextActionType | undefined {
  if (warning.reason === 'KEY_PENDING_EXPIRATION_CONFLICT') {
    return params.conflictResolution === 'lru' ? 'DEACTIVATE' : 'BLOCKED'
  }
  return WARNED_CHANGE[warning.reason]
}

function scheduled(
  key: KeyFacts,
  user: InventoryUser,
  params: PolicyParams,
  now: Date
): NextAction {
  if (key.status === 'Inactive') {
    return {
      type: 'DELETE',
      at: recoveryEndsAt(key, user, params, now),
      reason: 'RECOVER_GRACE_PERIOD_END'
    }
  }
  const rotatedAt = rotationOf(key, user)
  if (rotatedAt !== undefined) {
    return {
      type: 'DEACTIVATE',
      at: addDays(rotatedAt, params.installationGraceDays),
      reason: 'INSTALL_GRACE_PERIOD_END'
    }
  }
  const expiresAt = addDays(key.createdAt, params.rotationDays)
  if (key.lastUsed.kind === 'never') {
    return { type: 'DEACTIVATE', at: expiresAt, reason: 'UNUSED_EXPIRED_KEY' }
  }
  // Another Active key that is not this tool's rotation, and that this run does not remove.
  const conflict = user.keys.some(
    other =>
      other.accessKeyId !== key.accessKeyId &&
      other.status === 'Active' &&
      rotationOf(other, user) === undefined &&
      !user.decision.actions.some(
        action =>
          action.accessKeyId === other.accessKeyId &&
          (action.type === 'DEACTIVATE' || action.type === 'DELETE')
      )
  )
  if (conflict) {
    return params.conflictResolution === 'lru'
      ? { type: 'DEACTIVATE', at: expiresAt, reason: 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU' }
      : { type: 'BLOCKED', at: expiresAt, reason: 'ROTATION_BLOCKED_BY_CONFLICT' }
  }
  return { type: 'ROTATE', at: expiresAt, reason: 'EXPIRED_ACTIVE_KEY' }
}

/** The trusted record of a key (own properties only: key ids are data). */
/**
 * The key's record as this run leaves it: the trusted record with the run's lifecycle updates
 * applied (a rotation recognised from the tool's own secret when the tags are gone, say).
 */
function recordOf(key: KeyFacts, user: InventoryUser): KeyRecord | undefined {
  const trusted = user.decision.trusted
  let record = Object.hasOwn(trusted, key.accessKeyId) ? trusted[key.accessKeyId] : undefined
  for (const update of user.decision.lifecycleUpdates) {
    if (update.accessKeyId !== key.accessKeyId) continue
    const next: Record<string, unknown> = { ...record, ...update.changes }
    for (const field of update.clears ?? []) delete next[field]
    record = next
  }
  return record
}

/** When this tool rotated `key`, if trusted state says so and the user still has the replacement. */
function rotationOf(key: KeyFacts, user: InventoryUser): Date | undefined {
  const record = recordOf(key, user)
  const replacement = record?.replacementKeyId
  if (record?.rotatedAt === undefined || replacement === undefined) return undefined
  return user.keys.some(other => other.accessKeyId === replacement) ? record.rotatedAt : undefined
}

function recoveryEndsAt(key: KeyFacts, user: InventoryUser, params: PolicyParams, now: Date): Date {
  const record = recordOf(key, user)
  const t0 = record?.deactivatedAt ?? record?.firstSeenInactiveAt ?? now
  return addDays(t0, params.recoveryGraceDays)
}

function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS)
}

function before(now: Date, moment: Date): boolean {
  return now.getTime() < moment.getTime()
}
