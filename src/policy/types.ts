// Domain types of the key policy (shared/spec/key-policy.md). Plain data only: the engine
// builds these from IAM, the policy reads them, the plan serialises what comes out.

export type KeyStatus = 'Active' | 'Inactive'

/** `unknown` means the lookup failed; it is never evidence that a key is unused. */
export type LastUsed = { kind: 'date'; at: Date } | { kind: 'never' } | { kind: 'unknown' }

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
}

export type ConflictResolution = 'issue' | 'lru'

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
  /** Recorded lifecycle per access key id; a key without an entry has no recorded state. */
  readonly lifecycle: Readonly<Record<string, KeyLifecycle>>
  /** Out of the tool's reach: never evaluated; `exemptReason` says why. */
  readonly exempt: boolean
  readonly exemptReason?: ExemptReason
  /** Named in `force-rotate`. */
  readonly forced: boolean
  /** Access key id held by the user's stored secret, to recognise a rotation whose state was lost. */
  readonly storedSecretKeyId?: string
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

/** Lifecycle fields to set on one key (fields not named are left as they are). */
export interface LifecycleUpdate {
  readonly accessKeyId: string
  readonly changes: KeyLifecycle
  readonly cause: LifecycleCause
}

export interface UserDecision {
  /** In execution order: DELETE before DEACTIVATE before ROTATE, then BLOCKED, then WARN. */
  readonly actions: readonly PlannedAction[]
  /** Plain sentences for the plan: why something expected did not happen. */
  readonly notes: readonly string[]
  /**
   * State that follows from planning alone. The engine persists it in enforce mode only;
   * executed actions record their own state (see `lifecycleAfterRotate`/`lifecycleAfterDeactivate`).
   */
  readonly lifecycleUpdates: readonly LifecycleUpdate[]
}
