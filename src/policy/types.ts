// Domain types of the key policy (shared/spec/key-policy.md). Plain data only: the engine
// builds these from IAM, the policy reads them, the plan serialises what comes out.

export type KeyStatus = 'Active' | 'Inactive'

/** `unknown` means the lookup failed; it is never evidence that a key is unused. */
export type LastUsed =
  /** `service` and `region`: where AWS last saw the key, when it says (for people to find the caller). */
  | { kind: 'date'; at: Date; service?: string; region?: string }
  | { kind: 'never' }
  | { kind: 'unknown' }

export interface KeyFacts {
  readonly accessKeyId: string
  readonly status: KeyStatus
  readonly createdAt: Date
  readonly lastUsed: LastUsed
}

/**
 * State the tool recorded about one key in earlier runs (e.g. tags on the IAM user).
 * Also used as a patch: a {@link LifecycleUpdate} sets the fields it names and keeps the rest.
 */
export interface KeyLifecycle {
  /** When the tool created this key's replacement. Recorded together with `replacementKeyId`. */
  readonly rotatedAt?: Date
  readonly replacementKeyId?: string
  /** When the tool deactivated this key. */
  readonly deactivatedAt?: Date
  /** The first enforce run that saw this key inactive without having deactivated it itself. */
  readonly firstSeenInactiveAt?: Date
  /** The latest run that saw this key Active again after the tool had deactivated it. */
  readonly reactivationSeenAt?: Date
  /** How often a person reactivated the key after the tool deactivated it (1 or 2). */
  readonly reactivations?: number
  /** Intent: a rotation of this key began (recorded before CreateAccessKey). */
  readonly rotationStartedAt?: Date
  /**
   * The enforce run that first planned a warning of this key in its current window: the
   * warning's entry mail is due once per window, on the first run after it opens.
   */
  readonly warnedAt?: Date
}

export type LifecycleField = keyof KeyLifecycle

/**
 * A lifecycle record as read back from the user's tags, before the policy trusts it. Anyone with
 * iam:TagUser can write a tag, so only the scan's signature check says where a record came from.
 */
export type RecordClaim =
  /** Signed with the tool's state key. */
  | { readonly origin: 'signed'; readonly record: KeyRecord }
  /**
   * Unsigned, as versions before signed state wrote them: trusted only as far as IAM and the
   * earlier version's secret confirm it (`trustRecords`), and signed from then on.
   */
  | { readonly origin: 'legacy'; readonly record: KeyRecord }
  /** Failed verification: never state. `problem` says what failed. */
  | { readonly origin: 'unverified'; readonly problem: string }

/** The fields of one key's record, with the key's creation date that ties it to its slot. */
export interface KeyRecord extends KeyLifecycle {
  readonly createdAt?: Date
}

/** A record that is not state, and why: reported as STATE_TAMPERED. */
export interface StateFinding {
  readonly accessKeyId: string
  readonly reason: 'STATE_TAMPERED'
  readonly message: string
  /** What failed verification, in words a person can check. */
  readonly problem: string
}

export type ConflictResolution = 'issue' | 'lru'

/** `old-key-in-use`: what INSTALL_GRACE_PERIOD_END does with an old key that is still in use. */
export type OldKeyInUse = 'deactivate' | 'wait'

/**
 * Validated action inputs (inputs.ts guarantees whole numbers, R ≥ 1, Gi ≥ 1, Gr ≥ 1,
 * 0 ≤ W < R). Field names match `RotationPolicyConfig` so that config can be passed as is.
 */
export interface PolicyParams {
  /** R: an active key this many days old is expired and gets replaced. */
  readonly rotationDays: number
  /** Gi: days between creating the replacement and deactivating the old key. */
  readonly installationGraceDays: number
  /** Gr: days between deactivating a key and deleting it. */
  readonly recoveryGraceDays: number
  /** W: how far ahead of a due action the owner is warned. */
  readonly warningDays: number
  readonly conflictResolution: ConflictResolution
  /** `deactivate` (the runbook's behaviour; reversible) or `wait` while the old key is in use. */
  readonly oldKeyInUse: OldKeyInUse
  /** `wait`: the old key is deactivated once unused for this many days. */
  readonly oldKeyQuietDays: number
}

/**
 * Why a user is never evaluated: a member of the exemption group, tagged
 * iam-key-rotation:protected=true (the member role is also denied changing it), or outside
 * user-path (the member role may change only users under it).
 */
export type ExemptReason = 'exemption-group' | 'protected-tag' | 'outside-user-path'

export interface UserFacts {
  readonly userName: string
  readonly keys: readonly KeyFacts[]
  /**
   * Lifecycle records per access key id, as read back (a key without an entry has none). The
   * policy trusts only those that pass `trustRecords`; the others are reported, never followed.
   */
  readonly records: Readonly<Record<string, RecordClaim>>
  /** Out of the tool's reach: never evaluated; `exemptReason` says why. */
  readonly exempt: boolean
  readonly exemptReason?: ExemptReason
  /** Named in `force-rotate`. */
  readonly forced: boolean
  /**
   * Access key id of the current version of the user's stored secret, given only when the
   * secret's authenticated marker verified: recognises a rotation whose state was lost.
   */
  readonly storedSecretKeyId?: string
  /**
   * What an earlier version's secret says, read only to migrate an unsigned rotation record:
   * the key id its tag names, and when its current version was written.
   */
  readonly legacySecret?: { readonly accessKeyId: string; readonly storedAt: Date }
  /** When signed state began (the state key's creation): an unsigned record cannot be newer. */
  readonly signedStateSince?: Date
  /** The secret could not be read or verified: a key it may hold is never removed as an orphan. */
  readonly storedSecretUnknown?: boolean
  /**
   * A secret with the user's name exists that this tool did not create (why, in words): no key
   * is stored in it, so a rotation is BLOCKED `SECRET_NOT_OWNED`.
   */
  readonly secretNotOwned?: string
  /**
   * Whether the user can read its replacement key (the rotation complete, IAM allowing it): checked
   * only when the policy asks (`UserDecision.awaitsAccessCheck`). No old key is deactivated without it.
   */
  readonly newKeyAccess?: NewKeyAccess
}

/** The answer to "can the user read its new key?" for one replacement key. */
export interface NewKeyAccess {
  readonly accessKeyId: string
  readonly readable: boolean
  /** Why not, and what fixes it (when not readable). */
  readonly problem?: string
  readonly fix?: string
}

export type ActionType = 'ROTATE' | 'DEACTIVATE' | 'DELETE' | 'WARN' | 'BLOCKED'

export type ReasonCode =
  | 'UNUSED_EXPIRED_KEY'
  | 'EXPIRED_ACTIVE_KEY'
  | 'FORCED_ROTATION'
  | 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU'
  | 'EXPIRED_INACTIVE_KEY_CONFLICT'
  | 'FORCED_ROTATION_CONFLICT_LRU'
  | 'FORCED_INACTIVE_KEY_CONFLICT'
  | 'INSTALL_GRACE_PERIOD_END'
  | 'RECOVER_GRACE_PERIOD_END'
  | 'KEY_PENDING_ROTATION'
  | 'KEY_PENDING_DEACTIVATION'
  | 'KEY_PENDING_DELETION'
  | 'KEY_PENDING_EXPIRATION_CONFLICT'
  | 'KEY_PENDING_DELETION_CONFLICT'
  | 'UNUSED_KEY_PENDING_DELETION'
  | 'ROTATION_BLOCKED_BY_CONFLICT'
  | 'STATE_CHANGED'
  | 'STATE_TAMPERED'
  | 'ROTATION_WAITS_FOR_RECOVERY'
  | 'KEY_REACTIVATED'
  | 'ROTATION_BLOCKED_BY_OWNER'
  | 'SECRET_NOT_OWNED'
  | 'ORPHAN_KEY_REMOVED'
  | 'DEACTIVATION_WAITS_FOR_NEW_KEY'
  | 'OLD_KEY_STILL_IN_USE'

export interface PlannedAction {
  readonly type: ActionType
  readonly accessKeyId: string
  readonly reason: ReasonCode
  /** The reason's sentence, exactly as in key-policy.md. */
  readonly message: string
  /** WARN only: when the warned-about action becomes due. */
  readonly dueAt?: Date
  /**
   * Old key of a rotation by this tool (INSTALL_GRACE_PERIOD_END, KEY_PENDING_DEACTIVATION):
   * it was used after its replacement was created, so deactivating it may break something.
   * Absent when its last use is unknown.
   */
  readonly oldKeyUsedSinceRotation?: boolean
  /** Facts behind this action, in words (what blocks it, and the fix). */
  readonly detail?: string
}

/** Why a lifecycle field is written. */
export type LifecycleCause =
  /** Planning: an inactive key without recorded state starts its recovery clock now. */
  | 'first-seen-inactive'
  /** Planning: a rotation by this tool recognised from the stored secret after its state was lost. */
  | 'rotation-recognised'
  /** Execution: ROTATE created the replacement and stored it. */
  | 'rotated'
  /** Execution: DEACTIVATE succeeded. */
  | 'deactivated'
  /** Planning: a key is Active, so the state of its last inactive period is over. */
  | 'seen-active'
  /** Planning: a key the tool deactivated is Active again: a person reactivated it. */
  | 'reactivation-seen'
  /** Planning: an unfinished rotation's intent is over (its orphan removed, or nothing was made). */
  | 'intent-closed'
  /** Planning: a record of an earlier version that IAM confirms, signed from now on. */
  | 'migrated'
  /** Execution: ROTATE is about to create the replacement. */
  | 'rotation-started'
  /** Planning (notifications): the first run in a warning's window announces it. */
  | 'warning-announced'

/** Lifecycle fields to set on one key, and fields to drop; fields not named are kept. */
export interface LifecycleUpdate {
  readonly accessKeyId: string
  readonly changes: KeyLifecycle
  readonly clears?: readonly LifecycleField[]
  readonly cause: LifecycleCause
}

export interface UserDecision {
  /** In execution order: DELETE before DEACTIVATE before ROTATE, then BLOCKED, then WARN. */
  readonly actions: readonly PlannedAction[]
  /** Plain sentences for the plan: why something expected did not happen. */
  readonly notes: readonly string[]
  /**
   * State that follows from planning alone. The engine persists it in enforce mode only;
   * executed actions record their own state (apply-user.ts).
   */
  readonly lifecycleUpdates: readonly LifecycleUpdate[]
  /** The records the policy trusted, per key: what later writes build on. */
  readonly trusted: Readonly<Record<string, KeyRecord>>
  /** Records that are not state (forged, unverifiable, inconsistent with IAM). */
  readonly stateFindings: readonly StateFinding[]
  /**
   * A replacement key whose readability the policy needs before it deactivates the old key:
   * the scan checks it (`UserFacts.newKeyAccess`) and evaluates again. Until then it waits.
   */
  readonly awaitsAccessCheck?: string
}
