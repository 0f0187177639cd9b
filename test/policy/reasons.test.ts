import { describe, expect, it } from 'vitest'
import {
  REASON_CODES,
  REASON_SENTENCES,
  reasonSentence,
  timelineText,
  type ReasonCode
} from '../../src/policy/index.js'
import { DEFAULT_PARAMS } from './builders.js'

// key-policy.md, "Reason codes and their sentences", copied by hand: a change to a sentence
// must be a deliberate change to both the spec and this table.
const SPEC: [ReasonCode, string][] = [
  ['UNUSED_EXPIRED_KEY', 'Expired key has never been used.'],
  ['EXPIRED_ACTIVE_KEY', 'Active key has expired.'],
  ['FORCED_ROTATION', 'Forced active key rotation.'],
  ['EXPIRED_ACTIVE_KEY_CONFLICT_LRU', 'Expired active key with conflict, least recently used.'],
  ['EXPIRED_INACTIVE_KEY_CONFLICT', 'Expired key with conflict, already inactive.'],
  [
    'FORCED_ROTATION_CONFLICT_LRU',
    'Forced active key rotation with conflict, least recently used.'
  ],
  ['FORCED_INACTIVE_KEY_CONFLICT', 'Forced rotation with conflict, already inactive.'],
  ['INSTALL_GRACE_PERIOD_END', 'Installation grace period has ended.'],
  ['RECOVER_GRACE_PERIOD_END', 'Recovery grace period has ended.'],
  ['KEY_PENDING_ROTATION', 'Key will be rotated soon.'],
  ['KEY_PENDING_DEACTIVATION', 'Key will be deactivated soon, please install new key.'],
  ['KEY_PENDING_DELETION', 'Key will be permanently deleted soon, please validate new key.'],
  [
    'KEY_PENDING_EXPIRATION_CONFLICT',
    'Key will expire soon, cannot be rotated due to presence of other key.'
  ],
  ['KEY_PENDING_DELETION_CONFLICT', 'Key will be permanently deleted soon, due to conflict.'],
  [
    'UNUSED_KEY_PENDING_DELETION',
    'Key will be permanently deleted soon, key is about to expire and has never been used.'
  ],
  ['ROTATION_BLOCKED_BY_CONFLICT', 'Expired key cannot be rotated: the user already has two keys.'],
  ['STATE_CHANGED', 'Keys changed between planning and acting; nothing was done.'],
  ['STATE_TAMPERED', 'Recorded rotation state failed verification; it was ignored.'],
  [
    'ROTATION_WAITS_FOR_RECOVERY',
    "Expired key will be rotated once the inactive key's recovery period has ended."
  ],
  [
    'KEY_REACTIVATED',
    'Key was reactivated after this tool deactivated it; it will be deactivated again after a new grace period.'
  ],
  [
    'ROTATION_BLOCKED_BY_OWNER',
    'Key was reactivated again after deactivation; a person must decide.'
  ],
  [
    'SECRET_NOT_OWNED',
    'A secret with this name exists that this tool did not create; the new key was not stored.'
  ],
  [
    'ORPHAN_KEY_REMOVED',
    'A key left by an interrupted rotation (never used, never stored) was deleted.'
  ]
]

// Codes the issues added beyond the spec's table: execution rule 3's "waits, with a warning" and
// issue 13's old-key-in-use.
const ADDED: [ReasonCode, string][] = [
  [
    'DEACTIVATION_WAITS_FOR_NEW_KEY',
    'The old key stays active until its user can read the new key.'
  ],
  ['OLD_KEY_STILL_IN_USE', 'The old key is still in use; it is deactivated once it goes quiet.']
]

describe('reason sentences', () => {
  it.each([...SPEC, ...ADDED])('%s → %s', (code, sentence) => {
    expect(reasonSentence(code)).toBe(sentence)
    expect(REASON_SENTENCES[code]).toBe(sentence)
  })

  it('has exactly the codes of the spec, in its order, then those added since', () => {
    expect(REASON_CODES).toEqual([...SPEC, ...ADDED].map(([code]) => code))
  })

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(REASON_SENTENCES)).toBe(true)
    expect(Object.isFrozen(REASON_CODES)).toBe(true)
  })
})

describe('timelineText', () => {
  it('prints the runbook promise with the defaults', () => {
    expect(timelineText(DEFAULT_PARAMS)).toBe(
      'rotate at 90 d · deactivate old key at 100 d · delete at 110 d · warn 7 d ahead'
    )
  })

  it('adds the grace periods up from the rotation period', () => {
    expect(
      timelineText({
        rotationDays: 30,
        installationGraceDays: 5,
        recoveryGraceDays: 14,
        warningDays: 0,
        conflictResolution: 'lru',
        oldKeyInUse: 'deactivate',
        oldKeyQuietDays: 2
      })
    ).toBe('rotate at 30 d · deactivate old key at 35 d · delete at 49 d · warn 0 d ahead')
  })
})
