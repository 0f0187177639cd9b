import { describe, expect, it } from 'vitest'
import { nextAction, withinPolicy, type InventoryUser } from '../../src/plan/key-inventory.js'
import type { KeyFacts, PolicyParams } from '../../src/policy/index.js'
import {
  DEFAULT_PARAMS,
  NEVER,
  NOW,
  UNKNOWN,
  active,
  ago,
  decide,
  inDays,
  inactive,
  usedAt,
  user,
  type UserOptions
} from '../policy/builders.js'

// Each row: a user's keys as key-policy.md describes them, decided by the policy itself, and
// what the inventory says of each key: within policy, next action, when, and the reason code.

function inventoryUser(keys: KeyFacts[], options: UserOptions, params: PolicyParams) {
  const facts = user(keys, options)
  const decision = decide(facts, params, NOW)
  return { ...facts, decision, idsKnown: true } satisfies InventoryUser
}

/** `within type at reason` for each key, in the user's key order. */
function verdicts(keys: KeyFacts[], options: UserOptions = {}, params = DEFAULT_PARAMS): string[] {
  const subject = inventoryUser(keys, options, params)
  return keys.map(key => {
    const next = nextAction(key, subject, params, NOW)
    const within = withinPolicy(key, subject, params, NOW) ? 'yes' : 'no'
    return [key.accessKeyId, within, next.type, next.at?.toISOString() ?? '-', next.reason ?? '-']
      .join(' ')
      .trim()
  })
}

const at = (date: Date) => date.toISOString()
const LRU: PolicyParams = { ...DEFAULT_PARAMS, conflictResolution: 'lru' }

describe('withinPolicy and nextAction, per key (R 90, Gi 10, Gr 10, W 7)', () => {
  it.each<{
    what: string
    keys: KeyFacts[]
    options?: UserOptions
    params?: PolicyParams
    want: string[]
  }>([
    {
      what: 'a young active key: within; rotated at created + R (the timeline)',
      keys: [active('A', ago(30))],
      want: [`A yes ROTATE ${at(inDays(60))} EXPIRED_ACTIVE_KEY`]
    },
    {
      what: 'an active key in the warning window: within; the warning’s due date',
      keys: [active('A', ago(85))],
      want: [`A yes ROTATE ${at(inDays(5))} KEY_PENDING_ROTATION`]
    },
    {
      what: 'an active key one second short of R: still within',
      keys: [active('A', ago(90, 1))],
      want: [`A yes ROTATE ${at(inDays(0, 1))} KEY_PENDING_ROTATION`]
    },
    {
      what: 'an active key of exactly R days: not within; rotated now',
      keys: [active('A', ago(90))],
      want: [`A no ROTATE ${at(NOW)} EXPIRED_ACTIVE_KEY`]
    },
    {
      what: 'an expired active key: not within; rotated now',
      keys: [active('A', ago(95))],
      want: [`A no ROTATE ${at(NOW)} EXPIRED_ACTIVE_KEY`]
    },
    {
      what: 'a forced young key: within; rotated now',
      keys: [active('A', ago(30))],
      options: { forced: true },
      want: [`A yes ROTATE ${at(NOW)} FORCED_ROTATION`]
    },
    {
      what: 'a never-used young key: deactivated (not rotated) at created + R',
      keys: [active('A', ago(30), NEVER)],
      want: [`A yes DEACTIVATE ${at(inDays(60))} UNUSED_EXPIRED_KEY`]
    },
    {
      what: 'a never-used expired key: not within; deactivated now',
      keys: [active('A', ago(95), NEVER)],
      want: [`A no DEACTIVATE ${at(NOW)} UNUSED_EXPIRED_KEY`]
    },
    {
      what: 'an inactive key seen for the first time: its recovery clock starts now',
      keys: [inactive('I', ago(200))],
      want: [`I yes DELETE ${at(inDays(10))} RECOVER_GRACE_PERIOD_END`]
    },
    {
      what: 'an inactive key the tool deactivated a day ago: deleted at t0 + Gr',
      keys: [inactive('I', ago(200))],
      options: { lifecycle: { I: { deactivatedAt: ago(1) } } },
      want: [`I yes DELETE ${at(inDays(9))} RECOVER_GRACE_PERIOD_END`]
    },
    {
      what: 'an inactive key in its deletion warning window',
      keys: [inactive('I', ago(200))],
      options: { lifecycle: { I: { deactivatedAt: ago(5) } } },
      want: [`I yes DELETE ${at(inDays(5))} KEY_PENDING_DELETION`]
    },
    {
      what: 'an inactive key past its recovery window: not within; deleted now',
      keys: [inactive('I', ago(200))],
      options: { lifecycle: { I: { firstSeenInactiveAt: ago(12) } } },
      want: [`I no DELETE ${at(NOW)} RECOVER_GRACE_PERIOD_END`]
    },
    {
      what: 'an inactive key past recovery whose last use is unknown: held, so overdue',
      keys: [inactive('I', ago(200), UNKNOWN)],
      options: { lifecycle: { I: { deactivatedAt: ago(12) } } },
      want: [`I no DELETE ${at(ago(2))} RECOVER_GRACE_PERIOD_END`]
    },
    {
      what: 'a rotation under way: the old key is within during installation grace',
      keys: [active('A', ago(95)), active('B', ago(2))],
      options: { lifecycle: { A: { rotatedAt: ago(2), replacementKeyId: 'B' } } },
      want: [
        `A yes DEACTIVATE ${at(inDays(8))} INSTALL_GRACE_PERIOD_END`,
        `B yes ROTATE ${at(inDays(88))} EXPIRED_ACTIVE_KEY`
      ]
    },
    {
      what: 'a rotation recognised from the tool’s secret (tags gone): the old key is within its grace',
      keys: [active('A', ago(95)), active('B', ago(2))],
      options: { storedSecretKeyId: 'B' },
      want: [
        `A yes DEACTIVATE ${at(inDays(8))} INSTALL_GRACE_PERIOD_END`,
        `B yes ROTATE ${at(inDays(88))} EXPIRED_ACTIVE_KEY`
      ]
    },
    {
      what: 'a rotation under way, in the deactivation warning window',
      keys: [active('A', ago(100)), active('B', ago(5))],
      options: { lifecycle: { A: { rotatedAt: ago(5), replacementKeyId: 'B' } } },
      want: [
        `A yes DEACTIVATE ${at(inDays(5))} KEY_PENDING_DEACTIVATION`,
        `B yes ROTATE ${at(inDays(85))} EXPIRED_ACTIVE_KEY`
      ]
    },
    {
      what: 'a rotation whose installation grace has ended: the old key is not within',
      keys: [active('A', ago(105)), active('B', ago(12))],
      options: { lifecycle: { A: { rotatedAt: ago(12), replacementKeyId: 'B' } } },
      want: [
        `A no DEACTIVATE ${at(NOW)} INSTALL_GRACE_PERIOD_END`,
        `B yes ROTATE ${at(inDays(78))} EXPIRED_ACTIVE_KEY`
      ]
    },
    {
      what: 'two unrelated active keys, one expired (issue): BLOCKED now; the other at its expiry',
      keys: [active('A', ago(120)), active('B', ago(20))],
      want: [
        `A no BLOCKED ${at(NOW)} ROTATION_BLOCKED_BY_CONFLICT`,
        `B yes BLOCKED ${at(inDays(70))} ROTATION_BLOCKED_BY_CONFLICT`
      ]
    },
    {
      what: 'two unrelated active keys, the older expiring within W: BLOCKED at its expiry',
      keys: [active('A', ago(86)), active('B', ago(20))],
      want: [
        `A yes BLOCKED ${at(inDays(4))} KEY_PENDING_EXPIRATION_CONFLICT`,
        `B yes BLOCKED ${at(inDays(70))} ROTATION_BLOCKED_BY_CONFLICT`
      ]
    },
    {
      what: 'two unrelated active keys (lru): the least recently used is deactivated now, the other rotated later',
      keys: [active('A', ago(120), usedAt(ago(30))), active('B', ago(20))],
      params: LRU,
      want: [
        `A no DEACTIVATE ${at(NOW)} EXPIRED_ACTIVE_KEY_CONFLICT_LRU`,
        `B yes ROTATE ${at(inDays(70))} EXPIRED_ACTIVE_KEY`
      ]
    },
    {
      what: 'active expired beside an inactive key safe to delete: DELETE then ROTATE, now',
      keys: [active('A', ago(95)), inactive('I', ago(200), NEVER)],
      want: [
        `A no ROTATE ${at(NOW)} EXPIRED_ACTIVE_KEY`,
        `I yes DELETE ${at(NOW)} EXPIRED_INACTIVE_KEY_CONFLICT`
      ]
    },
    {
      what: 'an exempt user’s old key: within (exempt), no action',
      keys: [active('A', ago(400))],
      options: { exempt: true },
      want: ['A yes none - -']
    }
  ])('$what', ({ keys, options, params, want }) => {
    expect(verdicts(keys, options, params)).toEqual(want)
  })

  it('ignores records that are not own properties (key ids are data)', () => {
    const subject: InventoryUser = {
      userName: 'proto',
      exempt: false,
      keys: [active('__proto__', ago(95))],
      decision: { actions: [], trusted: {}, lifecycleUpdates: [] },
      idsKnown: true
    }
    const [key] = subject.keys
    expect(withinPolicy(key!, subject, DEFAULT_PARAMS, NOW)).toBe(false)
    expect(nextAction(key!, subject, DEFAULT_PARAMS, NOW).type).toBe('ROTATE')
  })
})
