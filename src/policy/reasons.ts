import type { PolicyParams, ReasonCode } from './types.js'

// The runbook's reason codes and sentences, word for word: operators who know the runbook
// recognise them in plans, emails and issues.
export const REASON_SENTENCES: Readonly<Record<ReasonCode, string>> = Object.freeze({
  UNUSED_EXPIRED_KEY: 'Expired key has never been used.',
  EXPIRED_ACTIVE_KEY: 'Active key has expired.',
  FORCED_ROTATION: 'Forced active key rotation.',
  EXPIRED_ACTIVE_KEY_CONFLICT_LRU: 'Expired active key with conflict, least recently used.',
  EXPIRED_INACTIVE_KEY_CONFLICT: 'Expired key with conflict, already inactive.',
  FORCED_ROTATION_CONFLICT_LRU: 'Forced active key rotation with conflict, least recently used.',
  FORCED_INACTIVE_KEY_CONFLICT: 'Forced rotation with conflict, already inactive.',
  INSTALL_GRACE_PERIOD_END: 'Installation grace period has ended.',
  RECOVER_GRACE_PERIOD_END: 'Recovery grace period has ended.',
  KEY_PENDING_ROTATION: 'Key will be rotated soon.',
  KEY_PENDING_DEACTIVATION: 'Key will be deactivated soon, please install new key.',
  KEY_PENDING_DELETION: 'Key will be permanently deleted soon, please validate new key.',
  KEY_PENDING_EXPIRATION_CONFLICT:
    'Key will expire soon, cannot be rotated due to presence of other key.',
  KEY_PENDING_DELETION_CONFLICT: 'Key will be permanently deleted soon, due to conflict.',
  UNUSED_KEY_PENDING_DELETION:
    'Key will be permanently deleted soon, key is about to expire and has never been used.',
  ROTATION_BLOCKED_BY_CONFLICT: 'Expired key cannot be rotated: the user already has two keys.',
  STATE_CHANGED: 'Keys changed between planning and acting; nothing was done.',
  STATE_TAMPERED: 'Recorded rotation state failed verification; it was ignored.',
  ROTATION_WAITS_FOR_RECOVERY:
    "Expired key will be rotated once the inactive key's recovery period has ended.",
  KEY_REACTIVATED:
    'Key was reactivated after this tool deactivated it; it will be deactivated again after a new grace period.',
  ROTATION_BLOCKED_BY_OWNER: 'Key was reactivated again after deactivation; a person must decide.',
  SECRET_NOT_OWNED:
    'A secret with this name exists that this tool did not create; the new key was not stored.',
  ORPHAN_KEY_REMOVED:
    'A key left by an interrupted rotation (never used, never stored) was deleted.',
  DEACTIVATION_WAITS_FOR_NEW_KEY: 'The old key stays active until its user can read the new key.',
  OLD_KEY_STILL_IN_USE: 'The old key is still in use; it is deactivated once it goes quiet.'
})

export const REASON_CODES: readonly ReasonCode[] = Object.freeze(
  Object.keys(REASON_SENTENCES) as ReasonCode[]
)

export function reasonSentence(code: ReasonCode): string {
  return REASON_SENTENCES[code]
}

/**
 * The effective timeline printed at the top of every summary, e.g.
 * `rotate at 90 d · deactivate old key at 100 d · delete at 110 d · warn 7 d ahead`.
 */
export function timelineText(params: PolicyParams): string {
  const rotateAt = params.rotationDays
  const deactivateAt = rotateAt + params.installationGraceDays
  const deleteAt = deactivateAt + params.recoveryGraceDays
  return [
    `rotate at ${rotateAt} d`,
    `deactivate old key at ${deactivateAt} d`,
    `delete at ${deleteAt} d`,
    `warn ${params.warningDays} d ahead`
  ].join(' · ')
}
