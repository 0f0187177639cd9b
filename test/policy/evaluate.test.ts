import { describe, expect, it } from 'vitest'
import {
  evaluateUser,
  type ActionType,
  type LifecycleUpdate,
  type LastUsed,
  type PolicyParams,
  type ReasonCode,
  type UserFacts
} from '../../src/policy/index.js'
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
  line,
  usedAt,
  user
} from './builders.js'

// Table-driven tests of key-policy.md, "Decision table". Defaults unless a row says otherwise:
// R = 90, Gi = 10, Gr = 10, W = 7, conflict-resolution issue. Ages are measured at NOW;
// "−1s" means one second younger than the boundary.

interface Row {
  name: string
  user: UserFacts
  params?: Partial<PolicyParams>
  /** Actions in the order the engine must execute them, as `line()` renders them. */
  expected: string[]
  /** One pattern per expected note, in order; no notes when absent. */
  notes?: RegExp[]
  updates?: LifecycleUpdate[]
  /** One pattern per STATE_TAMPERED finding's problem, in order; none when absent. */
  findings?: RegExp[]
}

function act(type: Exclude<ActionType, 'WARN'>, id: string, reason: ReasonCode): string {
  return `${type} ${id} ${reason}`
}

function warn(id: string, reason: ReasonCode, due: Date): string {
  return `WARN ${id} ${reason} due ${due.toISOString()}`
}

function check(row: Row): void {
  const decision = decide(row.user, { ...DEFAULT_PARAMS, ...row.params }, NOW)
  expect(decision.actions.map(line)).toEqual(row.expected)
  const notes = row.notes ?? []
  expect(decision.notes).toHaveLength(notes.length)
  notes.forEach((pattern, index) => expect(decision.notes[index]).toMatch(pattern))
  expect(decision.lifecycleUpdates).toEqual(row.updates ?? [])
  const findings = row.findings ?? []
  expect(decision.stateFindings).toHaveLength(findings.length)
  findings.forEach((pattern, index) =>
    expect(decision.stateFindings[index]?.problem).toMatch(pattern)
  )
}

describe('exempt users', () => {
  it.each<Row>([
    {
      name: 'an exempt user with an expired, a never-used and an old inactive key gets nothing',
      user: user([active('A', ago(400)), active('N', ago(200), NEVER), inactive('I', ago(300))], {
        exempt: true,
        forced: true
      }),
      expected: [],
      notes: [/^Exempt/]
    }
  ])('$name', check)
})

describe('step 1: never-used keys', () => {
  it.each<Row>([
    {
      name: 'never used, age exactly R: DEACTIVATE, no replacement',
      user: user([active('N', ago(90), NEVER)]),
      expected: [act('DEACTIVATE', 'N', 'UNUSED_EXPIRED_KEY')]
    },
    {
      name: 'never used, R − 1s: WARN due created + R',
      user: user([active('N', ago(90, 1), NEVER)]),
      expected: [warn('N', 'UNUSED_KEY_PENDING_DELETION', inDays(0, 1))]
    },
    {
      name: 'never used, age exactly R − W: WARN',
      user: user([active('N', ago(83), NEVER)]),
      expected: [warn('N', 'UNUSED_KEY_PENDING_DELETION', inDays(7))]
    },
    {
      name: 'never used, R − W − 1s: nothing',
      user: user([active('N', ago(83, 1), NEVER)]),
      expected: []
    },
    {
      name: 'forced user whose only key is never used and expired: deactivated, not rotated',
      user: user([active('N', ago(120), NEVER)], { forced: true }),
      expected: [act('DEACTIVATE', 'N', 'UNUSED_EXPIRED_KEY')],
      notes: [/no active key left/]
    },
    {
      name: 'W ≥ Gr: the just-deactivated key counts as Inactive from now, so step 2 warns',
      user: user([active('N', ago(90), NEVER)]),
      params: { recoveryGraceDays: 5 },
      expected: [
        act('DEACTIVATE', 'N', 'UNUSED_EXPIRED_KEY'),
        warn('N', 'KEY_PENDING_DELETION', inDays(5))
      ]
    },
    {
      name: 'never used in its warning window, forced: step 1 warns, forced rotation still applies',
      user: user([active('N', ago(85), NEVER)], { forced: true }),
      expected: [
        act('ROTATE', 'N', 'FORCED_ROTATION'),
        warn('N', 'UNUSED_KEY_PENDING_DELETION', inDays(5))
      ]
    },
    {
      name: 'never used in its warning window: no second warning from step 3',
      user: user([active('N', ago(85), NEVER)]),
      expected: [warn('N', 'UNUSED_KEY_PENDING_DELETION', inDays(5))]
    },
    {
      name: 'deactivated never-used key + expired active key: no delete in the same run, rotation waits',
      user: user([active('A', ago(100)), active('N', ago(95), NEVER)]),
      expected: [act('DEACTIVATE', 'N', 'UNUSED_EXPIRED_KEY')],
      notes: [/A: rotation waits for the next run: N is deactivated in this run/]
    },
    {
      name: 'same, forced: still waits',
      user: user([active('A', ago(20)), active('N', ago(95), NEVER)], { forced: true }),
      expected: [act('DEACTIVATE', 'N', 'UNUSED_EXPIRED_KEY')],
      notes: [/A: rotation waits for the next run/]
    },
    {
      name: 'deactivated never-used key + active key in its warning window: A warned, N not',
      user: user([active('A', ago(85)), active('N', ago(95), NEVER)]),
      expected: [
        act('DEACTIVATE', 'N', 'UNUSED_EXPIRED_KEY'),
        warn('A', 'KEY_PENDING_ROTATION', inDays(5))
      ]
    },
    {
      name: 'never-used key in its window keeps its slot: two Active with an expired key is BLOCKED',
      user: user([active('A', ago(100)), active('N', ago(85), NEVER)]),
      expected: [
        act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT'),
        warn('N', 'UNUSED_KEY_PENDING_DELETION', inDays(5))
      ]
    },
    {
      name: 'two never-used keys in their window: no expiration-conflict warning on top',
      user: user([active('N1', ago(86), NEVER), active('N2', ago(84), NEVER)]),
      expected: [
        warn('N1', 'UNUSED_KEY_PENDING_DELETION', inDays(4)),
        warn('N2', 'UNUSED_KEY_PENDING_DELETION', inDays(6))
      ]
    },
    {
      name: 'two never-used expired keys: both deactivated, nothing else',
      user: user([active('N1', ago(100), NEVER), active('N2', ago(95), NEVER)]),
      expected: [
        act('DEACTIVATE', 'N1', 'UNUSED_EXPIRED_KEY'),
        act('DEACTIVATE', 'N2', 'UNUSED_EXPIRED_KEY')
      ]
    }
  ])('$name', check)
})

describe('step 2: inactive keys', () => {
  it.each<Row>([
    {
      name: 'deactivated exactly Gr ago: DELETE',
      user: user([inactive('I', ago(200))], { lifecycle: { I: { deactivatedAt: ago(10) } } }),
      expected: [act('DELETE', 'I', 'RECOVER_GRACE_PERIOD_END')]
    },
    {
      name: 'deactivated Gr − 1s ago: WARN due t0 + Gr',
      user: user([inactive('I', ago(200))], { lifecycle: { I: { deactivatedAt: ago(10, 1) } } }),
      expected: [warn('I', 'KEY_PENDING_DELETION', inDays(0, 1))]
    },
    {
      name: 'deactivated exactly Gr − W ago: WARN',
      user: user([inactive('I', ago(200))], { lifecycle: { I: { deactivatedAt: ago(3) } } }),
      expected: [warn('I', 'KEY_PENDING_DELETION', inDays(7))]
    },
    {
      name: 'deactivated Gr − W − 1s ago: nothing',
      user: user([inactive('I', ago(200))], { lifecycle: { I: { deactivatedAt: ago(3, 1) } } }),
      expected: []
    },
    {
      name: 'no deactivatedAt: the clock starts at firstSeenInactiveAt',
      user: user([inactive('I', ago(200))], { lifecycle: { I: { firstSeenInactiveAt: ago(10) } } }),
      expected: [act('DELETE', 'I', 'RECOVER_GRACE_PERIOD_END')]
    },
    {
      name: 'deactivatedAt wins over firstSeenInactiveAt',
      user: user([inactive('I', ago(200))], {
        lifecycle: { I: { deactivatedAt: ago(2), firstSeenInactiveAt: ago(30) } }
      }),
      expected: []
    },
    {
      name: 'first sighting: the clock starts now and is recorded',
      user: user([inactive('I', ago(400))]),
      expected: [],
      updates: [
        { accessKeyId: 'I', changes: { firstSeenInactiveAt: NOW }, cause: 'first-seen-inactive' }
      ]
    },
    {
      name: 'first sighting with W ≥ Gr: warned at once, due now + Gr',
      user: user([inactive('I', ago(400))]),
      params: { recoveryGraceDays: 5 },
      expected: [warn('I', 'KEY_PENDING_DELETION', inDays(5))],
      updates: [
        { accessKeyId: 'I', changes: { firstSeenInactiveAt: NOW }, cause: 'first-seen-inactive' }
      ]
    },
    {
      name: 'unknown last use at the end of recovery: no DELETE, a note',
      user: user([inactive('I', ago(200), UNKNOWN)], {
        lifecycle: { I: { deactivatedAt: ago(30) } }
      }),
      expected: [],
      notes: [/I: recovery grace period has ended, but its last use is unknown/]
    },
    {
      name: 'unknown last use in the warning window: still warned',
      user: user([inactive('I', ago(200), UNKNOWN)], {
        lifecycle: { I: { deactivatedAt: ago(5) } }
      }),
      expected: [warn('I', 'KEY_PENDING_DELETION', inDays(5))]
    },
    {
      name: 'never-used inactive key: deleted like any other',
      user: user([inactive('I', ago(200), NEVER)], {
        lifecycle: { I: { deactivatedAt: ago(10) } }
      }),
      expected: [act('DELETE', 'I', 'RECOVER_GRACE_PERIOD_END')]
    },
    {
      name: 'each inactive key on its own clock',
      user: user([inactive('I1', ago(300)), inactive('I2', ago(200))], {
        lifecycle: { I1: { deactivatedAt: ago(11) }, I2: { deactivatedAt: ago(4) } }
      }),
      expected: [
        act('DELETE', 'I1', 'RECOVER_GRACE_PERIOD_END'),
        warn('I2', 'KEY_PENDING_DELETION', inDays(6))
      ]
    }
  ])('$name', check)
})

describe('step 3: one Active key', () => {
  it.each<Row>([
    {
      name: 'age exactly R: ROTATE',
      user: user([active('A', ago(90))]),
      expected: [act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')]
    },
    {
      name: 'R − 1s: WARN due created + R',
      user: user([active('A', ago(90, 1))]),
      expected: [warn('A', 'KEY_PENDING_ROTATION', inDays(0, 1))]
    },
    {
      name: 'age exactly R − W: WARN',
      user: user([active('A', ago(83))]),
      expected: [warn('A', 'KEY_PENDING_ROTATION', inDays(7))]
    },
    {
      name: 'R − W − 1s: nothing',
      user: user([active('A', ago(83, 1))]),
      expected: []
    },
    {
      name: 'forced, young key: ROTATE FORCED_ROTATION',
      user: user([active('A', ago(1))], { forced: true }),
      expected: [act('ROTATE', 'A', 'FORCED_ROTATION')]
    },
    {
      name: 'forced and expired: age matches first',
      user: user([active('A', ago(120))], { forced: true }),
      expected: [act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')]
    },
    {
      name: 'unknown last use does not stop a rotation (nothing is removed)',
      user: user([active('A', ago(120), UNKNOWN)]),
      expected: [act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')]
    },
    {
      name: 'W = 0: no warning before R',
      user: user([active('A', ago(90, 1))]),
      params: { warningDays: 0 },
      expected: []
    },
    {
      name: 'no keys at all: nothing',
      user: user([]),
      expected: []
    },
    {
      name: 'no keys, forced: nothing, and the plan says why',
      user: user([], { forced: true }),
      expected: [],
      notes: [/no active key left to rotate/]
    }
  ])('$name', check)
})

describe('step 3: Active A + Inactive I', () => {
  const recentlyDeactivated = (days: number) => ({ I: { deactivatedAt: ago(days) } })

  it.each<Row>([
    {
      name: 'A age exactly R: DELETE I, then ROTATE A',
      user: user([active('A', ago(90)), inactive('I', ago(300))], {
        lifecycle: recentlyDeactivated(1)
      }),
      expected: [
        act('DELETE', 'I', 'EXPIRED_INACTIVE_KEY_CONFLICT'),
        act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')
      ]
    },
    {
      name: 'listed in the other order: still DELETE before ROTATE',
      user: user([inactive('I', ago(300)), active('A', ago(90))], {
        lifecycle: recentlyDeactivated(1)
      }),
      expected: [
        act('DELETE', 'I', 'EXPIRED_INACTIVE_KEY_CONFLICT'),
        act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')
      ]
    },
    {
      name: 'forced: DELETE I, then ROTATE A, with the forced codes',
      user: user([active('A', ago(30)), inactive('I', ago(300))], {
        forced: true,
        lifecycle: recentlyDeactivated(1)
      }),
      expected: [
        act('DELETE', 'I', 'FORCED_INACTIVE_KEY_CONFLICT'),
        act('ROTATE', 'A', 'FORCED_ROTATION')
      ]
    },
    {
      name: 'A within W and I recovers after A expires: both warned, due created(A) + R',
      user: user([active('A', ago(85)), inactive('I', ago(300))], {
        lifecycle: recentlyDeactivated(1)
      }),
      expected: [
        warn('I', 'KEY_PENDING_DELETION_CONFLICT', inDays(5)),
        warn('A', 'KEY_PENDING_ROTATION', inDays(5))
      ]
    },
    {
      name: 'conflict warning replaces the later step-2 warning of I',
      user: user([active('A', ago(85)), inactive('I', ago(300))], {
        lifecycle: recentlyDeactivated(4)
      }),
      expected: [
        warn('I', 'KEY_PENDING_DELETION_CONFLICT', inDays(5)),
        warn('A', 'KEY_PENDING_ROTATION', inDays(5))
      ]
    },
    {
      name: 'I recovers exactly when A expires: no conflict, step 2 warns I, A warned',
      user: user([active('A', ago(85)), inactive('I', ago(300))], {
        lifecycle: recentlyDeactivated(5)
      }),
      expected: [
        warn('I', 'KEY_PENDING_DELETION', inDays(5)),
        warn('A', 'KEY_PENDING_ROTATION', inDays(5))
      ]
    },
    {
      name: 'I recovers before A expires: step 2 warns I, A warned',
      user: user([active('A', ago(85)), inactive('I', ago(300))], {
        lifecycle: recentlyDeactivated(6)
      }),
      expected: [
        warn('I', 'KEY_PENDING_DELETION', inDays(4)),
        warn('A', 'KEY_PENDING_ROTATION', inDays(5))
      ]
    },
    {
      name: 'A younger than R − W: only step 2 applies',
      user: user([active('A', ago(83, 1)), inactive('I', ago(300))], {
        lifecycle: recentlyDeactivated(1)
      }),
      expected: []
    },
    {
      name: 'I deleted in step 2: A is then a lone key and rotates',
      user: user([active('A', ago(95)), inactive('I', ago(300))], {
        lifecycle: recentlyDeactivated(10)
      }),
      expected: [
        act('DELETE', 'I', 'RECOVER_GRACE_PERIOD_END'),
        act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')
      ]
    },
    {
      name: 'I seen inactive for the first time: the conflict still deletes it, the clock is recorded',
      user: user([active('A', ago(95)), inactive('I', ago(300))]),
      expected: [
        act('DELETE', 'I', 'EXPIRED_INACTIVE_KEY_CONFLICT'),
        act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')
      ],
      updates: [
        { accessKeyId: 'I', changes: { firstSeenInactiveAt: NOW }, cause: 'first-seen-inactive' }
      ]
    },
    {
      name: 'I with unknown last use, A expired: not safe to delete, both wait until its recovery ends',
      user: user([active('A', ago(95)), inactive('I', ago(300), UNKNOWN)], {
        lifecycle: recentlyDeactivated(1)
      }),
      expected: [
        warn('I', 'KEY_PENDING_DELETION_CONFLICT', inDays(9)),
        warn('A', 'ROTATION_WAITS_FOR_RECOVERY', inDays(9))
      ],
      notes: [/I: its last use is unknown .* not deleted to make room for rotating A/]
    },
    {
      name: 'I with unknown last use, forced: both wait',
      user: user([active('A', ago(30)), inactive('I', ago(300), UNKNOWN)], {
        forced: true,
        lifecycle: recentlyDeactivated(1)
      }),
      expected: [
        warn('I', 'KEY_PENDING_DELETION_CONFLICT', inDays(9)),
        warn('A', 'ROTATION_WAITS_FOR_RECOVERY', inDays(9))
      ],
      notes: [/I: its last use is unknown/]
    },
    {
      name: 'I past recovery with unknown last use, A expired: neither deletion happens, due now',
      user: user([active('A', ago(95)), inactive('I', ago(300), UNKNOWN)], {
        lifecycle: recentlyDeactivated(20)
      }),
      expected: [
        warn('I', 'KEY_PENDING_DELETION_CONFLICT', NOW),
        warn('A', 'ROTATION_WAITS_FOR_RECOVERY', NOW)
      ],
      notes: [/I: recovery grace period has ended/, /I: its last use is unknown/]
    },
    {
      name: 'A with unknown last use: rotation goes ahead (A is not removed)',
      user: user([active('A', ago(95), UNKNOWN), inactive('I', ago(300))], {
        lifecycle: recentlyDeactivated(1)
      }),
      expected: [
        act('DELETE', 'I', 'EXPIRED_INACTIVE_KEY_CONFLICT'),
        act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')
      ]
    }
  ])('$name', check)
})

describe('step 3: two Active keys, a rotation by this tool', () => {
  const rotated = (days: number, lessSeconds = 0) => ({
    A: { rotatedAt: ago(days, lessSeconds), replacementKeyId: 'B' }
  })

  it.each<Row>([
    {
      name: 'exactly Gi after rotation: DEACTIVATE A',
      user: user([active('A', ago(100), usedAt(ago(20))), active('B', ago(10), NEVER)], {
        lifecycle: rotated(10)
      }),
      expected: [act('DEACTIVATE', 'A', 'INSTALL_GRACE_PERIOD_END')]
    },
    {
      name: 'Gi − 1s after rotation: WARN due rotatedAt + Gi',
      user: user([active('A', ago(100), usedAt(ago(20))), active('B', ago(10), NEVER)], {
        lifecycle: rotated(10, 1)
      }),
      expected: [warn('A', 'KEY_PENDING_DEACTIVATION', inDays(0, 1))]
    },
    {
      name: 'exactly Gi − W after rotation: WARN',
      user: user([active('A', ago(93)), active('B', ago(3))], { lifecycle: rotated(3) }),
      expected: [warn('A', 'KEY_PENDING_DEACTIVATION', inDays(7))]
    },
    {
      name: 'Gi − W − 1s after rotation: nothing',
      user: user([active('A', ago(93)), active('B', ago(3))], { lifecycle: rotated(3, 1) }),
      expected: []
    },
    {
      name: 'forced while the rotation is under way: nothing new, the plan says so',
      user: user([active('A', ago(91)), active('B', ago(1))], {
        forced: true,
        lifecycle: rotated(1)
      }),
      expected: [],
      notes: [/Forced rotation requested, but a rotation is already under way \(B replaces A\)/]
    },
    {
      name: 'forced at the end of installation grace: A deactivated, the plan explains the force',
      user: user([active('A', ago(101)), active('B', ago(11))], {
        forced: true,
        lifecycle: rotated(11)
      }),
      expected: [act('DEACTIVATE', 'A', 'INSTALL_GRACE_PERIOD_END')],
      notes: [/already under way/]
    },
    {
      name: 'old key with unknown last use at the end of installation grace: no DEACTIVATE, a note',
      user: user([active('A', ago(100), UNKNOWN), active('B', ago(10))], {
        lifecycle: rotated(10)
      }),
      expected: [],
      notes: [/A: installation grace period has ended, but its last use is unknown/]
    },
    {
      name: 'keys listed newest first: same decision',
      user: user([active('B', ago(10)), active('A', ago(100), usedAt(ago(20)))], {
        lifecycle: rotated(10)
      }),
      expected: [act('DEACTIVATE', 'A', 'INSTALL_GRACE_PERIOD_END')]
    },
    {
      name: 'state lost, the stored secret holds the newer key: rotatedAt = created(B), recorded',
      user: user([active('A', ago(100), usedAt(ago(20))), active('B', ago(10))], {
        storedSecretKeyId: 'B'
      }),
      expected: [act('DEACTIVATE', 'A', 'INSTALL_GRACE_PERIOD_END')],
      notes: [/B is taken as this tool's replacement of A \(the tool's secret holds it\)/],
      updates: [
        {
          accessKeyId: 'A',
          changes: { rotatedAt: ago(10), replacementKeyId: 'B' },
          clears: ['reactivations', 'reactivationSeenAt'],
          cause: 'rotation-recognised'
        }
      ]
    },
    {
      name: 'state lost, recognised from the secret, Gi − 1s after created(B): WARN',
      user: user([active('A', ago(100)), active('B', ago(10, 1))], { storedSecretKeyId: 'B' }),
      expected: [warn('A', 'KEY_PENDING_DEACTIVATION', inDays(0, 1))],
      notes: [/the tool's secret holds it/],
      updates: [
        {
          accessKeyId: 'A',
          changes: { rotatedAt: ago(10, 1), replacementKeyId: 'B' },
          clears: ['reactivations', 'reactivationSeenAt'],
          cause: 'rotation-recognised'
        }
      ]
    },
    {
      name: 'recorded replacement without a date: not state (STATE_TAMPERED), so a conflict',
      user: user([active('A', ago(100)), active('B', ago(12))], {
        lifecycle: { A: { replacementKeyId: 'B' } }
      }),
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT')],
      findings: [/names B but no rotation date/]
    },
    {
      name: 'the stored secret holds the older key: not a rotation by this tool',
      user: user([active('A', ago(100)), active('B', ago(10))], { storedSecretKeyId: 'A' }),
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT')]
    }
  ])('$name', check)

  it.each([
    { lastUsed: usedAt(ago(20)), flag: false, case: 'last used before the rotation' },
    { lastUsed: usedAt(ago(1)), flag: true, case: 'used after the rotation' },
    { lastUsed: NEVER, flag: false, case: 'never used' }
  ])('flags oldKeyUsedSinceRotation: $case → $flag', ({ lastUsed, flag }) => {
    // A forced rotation of a 40-day-old key, so that step 1 leaves a never-used A alone.
    const rotation = { A: { rotatedAt: ago(10), replacementKeyId: 'B' } }
    const deactivation = decide(
      user([active('A', ago(40), lastUsed), active('B', ago(10))], { lifecycle: rotation }),
      DEFAULT_PARAMS,
      NOW
    )
    const warning = decide(
      user([active('A', ago(40), lastUsed), active('B', ago(10))], { lifecycle: rotation }),
      DEFAULT_PARAMS,
      ago(1)
    )
    expect(deactivation.actions).toEqual([
      expect.objectContaining({ type: 'DEACTIVATE', oldKeyUsedSinceRotation: flag })
    ])
    expect(warning.actions).toEqual([
      expect.objectContaining({ type: 'WARN', oldKeyUsedSinceRotation: flag })
    ])
  })

  it('gives no oldKeyUsedSinceRotation on a warning when the last use is unknown', () => {
    const decision = decide(
      user([active('A', ago(100), UNKNOWN), active('B', ago(5))], {
        lifecycle: { A: { rotatedAt: ago(5), replacementKeyId: 'B' } }
      }),
      DEFAULT_PARAMS,
      NOW
    )
    expect(decision.actions).toHaveLength(1)
    expect(decision.actions[0]).not.toHaveProperty('oldKeyUsedSinceRotation')
  })
})

describe('step 3: two Active keys, not a rotation by this tool', () => {
  const lru: Partial<PolicyParams> = { conflictResolution: 'lru' }

  it.each<Row>([
    {
      name: 'neither expired, the older at exactly R − W: WARN the older, due its expiry',
      user: user([active('Y', ago(10)), active('O', ago(83))]),
      expected: [warn('O', 'KEY_PENDING_EXPIRATION_CONFLICT', inDays(7))]
    },
    {
      name: 'neither expired, the older at R − W − 1s: nothing',
      user: user([active('O', ago(83, 1)), active('Y', ago(10))]),
      expected: []
    },
    {
      name: 'issue: expired key (exactly R) is BLOCKED',
      user: user([active('O', ago(90)), active('Y', ago(10))]),
      expected: [act('BLOCKED', 'O', 'ROTATION_BLOCKED_BY_CONFLICT')]
    },
    {
      name: 'issue: R − 1s is still the warning row',
      user: user([active('O', ago(90, 1)), active('Y', ago(10))]),
      expected: [warn('O', 'KEY_PENDING_EXPIRATION_CONFLICT', inDays(0, 1))]
    },
    {
      name: 'issue: both expired, both BLOCKED, older first',
      user: user([active('Y', ago(95)), active('O', ago(120))]),
      expected: [
        act('BLOCKED', 'O', 'ROTATION_BLOCKED_BY_CONFLICT'),
        act('BLOCKED', 'Y', 'ROTATION_BLOCKED_BY_CONFLICT')
      ]
    },
    {
      name: 'issue: forced, neither expired: the older key is BLOCKED',
      user: user([active('O', ago(40)), active('Y', ago(10))], { forced: true }),
      expected: [act('BLOCKED', 'O', 'ROTATION_BLOCKED_BY_CONFLICT')]
    },
    {
      name: 'issue: forced outranks the expiration warning',
      user: user([active('O', ago(85)), active('Y', ago(10))], { forced: true }),
      expected: [act('BLOCKED', 'O', 'ROTATION_BLOCKED_BY_CONFLICT')]
    },
    {
      name: 'lru: a never-used key is chosen first, even when younger',
      user: user([active('O', ago(120), usedAt(ago(30))), active('Y', ago(20), NEVER)]),
      params: lru,
      expected: [act('DEACTIVATE', 'Y', 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU')]
    },
    {
      name: 'lru: then the oldest last use, even when it is the expired key',
      user: user([active('O', ago(120), usedAt(ago(40))), active('Y', ago(20), usedAt(ago(1)))]),
      params: lru,
      expected: [act('DEACTIVATE', 'O', 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU')]
    },
    {
      name: 'lru: the oldest last use wins over creation',
      user: user([active('O', ago(120), usedAt(ago(1))), active('Y', ago(20), usedAt(ago(40)))]),
      params: lru,
      expected: [act('DEACTIVATE', 'Y', 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU')]
    },
    {
      name: 'lru: same last use, the older key is chosen',
      user: user([active('Y', ago(20), usedAt(ago(40))), active('O', ago(120), usedAt(ago(40)))]),
      params: lru,
      expected: [act('DEACTIVATE', 'O', 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU')]
    },
    {
      name: 'lru: the chosen key last used exactly Gi ago may be deactivated',
      user: user([active('O', ago(120), usedAt(ago(1))), active('Y', ago(20), usedAt(ago(10)))]),
      params: lru,
      expected: [act('DEACTIVATE', 'Y', 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU')]
    },
    {
      name: 'lru: the chosen key used Gi − 1s ago is never chosen: BLOCKED',
      user: user([active('O', ago(120), usedAt(ago(1))), active('Y', ago(20), usedAt(ago(10, 1)))]),
      params: lru,
      expected: [act('BLOCKED', 'O', 'ROTATION_BLOCKED_BY_CONFLICT')],
      notes: [
        /conflict-resolution lru: the least recently used key, Y, was used within the last 10 days; blocked instead/
      ]
    },
    {
      name: 'lru: a key with unknown last use: BLOCKED, nothing deactivated',
      user: user([active('O', ago(120), usedAt(ago(40))), active('Y', ago(20), UNKNOWN)]),
      params: lru,
      expected: [act('BLOCKED', 'O', 'ROTATION_BLOCKED_BY_CONFLICT')],
      notes: [/last use of Y is unknown/]
    },
    {
      name: 'lru: even a never-used other key is not chosen when one last use is unknown',
      user: user([active('O', ago(120), UNKNOWN), active('Y', ago(20), NEVER)]),
      params: lru,
      expected: [act('BLOCKED', 'O', 'ROTATION_BLOCKED_BY_CONFLICT')],
      notes: [/last use of O is unknown/]
    },
    {
      name: 'lru: forced, neither expired: FORCED_ROTATION_CONFLICT_LRU',
      user: user([active('O', ago(40), usedAt(ago(30))), active('Y', ago(20), usedAt(ago(1)))], {
        forced: true
      }),
      params: lru,
      expected: [act('DEACTIVATE', 'O', 'FORCED_ROTATION_CONFLICT_LRU')]
    },
    {
      name: 'lru: forced and expired: the expired code',
      user: user([active('O', ago(95), usedAt(ago(30))), active('Y', ago(20), usedAt(ago(1)))], {
        forced: true
      }),
      params: lru,
      expected: [act('DEACTIVATE', 'O', 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU')]
    },
    {
      name: 'lru: both expired: one DEACTIVATE only',
      user: user([active('O', ago(120), usedAt(ago(30))), active('Y', ago(95), usedAt(ago(15)))]),
      params: lru,
      expected: [act('DEACTIVATE', 'O', 'EXPIRED_ACTIVE_KEY_CONFLICT_LRU')]
    },
    {
      name: 'lru: neither expired nor forced: only the warning row applies',
      user: user([active('O', ago(85), usedAt(ago(30))), active('Y', ago(20), NEVER)]),
      params: lru,
      expected: [warn('O', 'KEY_PENDING_EXPIRATION_CONFLICT', inDays(5))]
    }
  ])('$name', check)
})

describe('defensive shapes', () => {
  it.each<Row>([
    {
      name: 'three keys: steps 1 and 2 still run, step 3 stays out of it',
      user: user([active('A', ago(100)), active('B', ago(95)), active('N', ago(120), NEVER)]),
      expected: [act('DEACTIVATE', 'N', 'UNUSED_EXPIRED_KEY')],
      notes: [/2 active and 1 inactive keys left after steps 1–2/]
    },
    {
      name: 'three keys, one deleted in step 2: the remaining pair follows the table',
      user: user([active('A', ago(100)), active('B', ago(20)), inactive('C', ago(300))], {
        lifecycle: { C: { deactivatedAt: ago(20) } }
      }),
      expected: [
        act('DELETE', 'C', 'RECOVER_GRACE_PERIOD_END'),
        act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT')
      ]
    },
    {
      name: 'lifecycle entries of keys the user no longer has are ignored',
      user: user([active('A', ago(10))], {
        lifecycle: { GONE: { rotatedAt: ago(50), replacementKeyId: 'A' } }
      }),
      expected: []
    },
    {
      name: 'a key id that is also an Object.prototype name is still just data',
      user: user([inactive('constructor', ago(300))]),
      expected: [],
      updates: [
        {
          accessKeyId: 'constructor',
          changes: { firstSeenInactiveAt: NOW },
          cause: 'first-seen-inactive'
        }
      ]
    }
  ])('$name', check)
})

describe('every planned action', () => {
  it('carries the sentence of its reason and a due date exactly when it is a warning', () => {
    const decision = decide(
      user([active('A', ago(85)), inactive('I', ago(300))], {
        lifecycle: { I: { deactivatedAt: ago(1) } }
      }),
      DEFAULT_PARAMS,
      NOW
    )
    expect(decision.actions).toEqual([
      {
        type: 'WARN',
        accessKeyId: 'I',
        reason: 'KEY_PENDING_DELETION_CONFLICT',
        message: 'Key will be permanently deleted soon, due to conflict.',
        dueAt: inDays(5)
      },
      {
        type: 'WARN',
        accessKeyId: 'A',
        reason: 'KEY_PENDING_ROTATION',
        message: 'Key will be rotated soon.',
        dueAt: inDays(5)
      }
    ])
    const rotation = decide(user([active('A', ago(90))]), DEFAULT_PARAMS, NOW)
    expect(rotation.actions).toEqual([
      {
        type: 'ROTATE',
        accessKeyId: 'A',
        reason: 'EXPIRED_ACTIVE_KEY',
        message: 'Active key has expired.'
      }
    ])
  })

  it('runs the same day twice with the same facts to the same decision', () => {
    const facts = user([active('A', ago(95)), inactive('I', ago(300))])
    expect(decide(facts, DEFAULT_PARAMS, NOW)).toEqual(decide(facts, DEFAULT_PARAMS, NOW))
  })
})

// Version 2 of the key policy: the rows and rules added for state the tool can trust.

describe('v2: conflict rows keep the recovery window', () => {
  const deactivated = (days: number) => ({ I: { deactivatedAt: ago(days) } })
  it.each<Row>([
    {
      name: 'I deactivated an hour ago by a person and used the day before: both wait',
      user: user([active('A', ago(95)), inactive('I', ago(300), usedAt(ago(1, -3600)))]),
      expected: [
        warn('I', 'KEY_PENDING_DELETION_CONFLICT', inDays(9, -3600)),
        warn('A', 'ROTATION_WAITS_FOR_RECOVERY', inDays(9, -3600))
      ],
      updates: [
        { accessKeyId: 'I', changes: { firstSeenInactiveAt: NOW }, cause: 'first-seen-inactive' }
      ]
    },
    {
      name: 'I never used: safe to delete at once, even deactivated today',
      user: user([active('A', ago(95)), inactive('I', ago(30), NEVER)], {
        lifecycle: deactivated(0)
      }),
      expected: [
        act('DELETE', 'I', 'EXPIRED_INACTIVE_KEY_CONFLICT'),
        act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')
      ]
    },
    {
      name: 'I last used exactly Gr ago: safe to delete',
      user: user([active('A', ago(95)), inactive('I', ago(300), usedAt(ago(10)))], {
        lifecycle: deactivated(5)
      }),
      expected: [
        act('DELETE', 'I', 'EXPIRED_INACTIVE_KEY_CONFLICT'),
        act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')
      ]
    },
    {
      name: 'I last used Gr − 1s ago: waits one second',
      user: user([active('A', ago(95)), inactive('I', ago(300), usedAt(ago(10, 1)))], {
        lifecycle: deactivated(5)
      }),
      expected: [
        warn('I', 'KEY_PENDING_DELETION_CONFLICT', inDays(0, 1)),
        warn('A', 'ROTATION_WAITS_FOR_RECOVERY', inDays(0, 1))
      ]
    }
  ])('$name', check)
})

describe('v2: state belongs to one inactive period', () => {
  it.each<Row>([
    {
      name: 'an Active key with a recorded first sighting: the old period is dropped',
      user: user([active('A', ago(60))], { lifecycle: { A: { firstSeenInactiveAt: ago(40) } } }),
      expected: [],
      updates: [
        {
          accessKeyId: 'A',
          changes: {},
          clears: ['deactivatedAt', 'firstSeenInactiveAt'],
          cause: 'seen-active'
        }
      ]
    },
    {
      name: 'the scream test: reactivated, used, deactivated again months later: a new recovery clock',
      user: user([inactive('A', ago(300), usedAt(ago(0, -60)))], {
        lifecycle: { A: { deactivatedAt: ago(200) } }
      }),
      expected: [],
      notes: [/A: used on .* after its recorded inactive period began .* starts again/],
      updates: [
        {
          accessKeyId: 'A',
          changes: {},
          clears: ['deactivatedAt', 'firstSeenInactiveAt'],
          cause: 'seen-active'
        },
        { accessKeyId: 'A', changes: { firstSeenInactiveAt: NOW }, cause: 'first-seen-inactive' }
      ]
    }
  ])('$name', check)
})

describe('v2: a person reactivates the old key', () => {
  const rotation = { rotatedAt: ago(30), replacementKeyId: 'B' }
  it.each<Row>([
    {
      name: 'first reactivation seen: recorded, a new grace period Gi (KEY_REACTIVATED)',
      user: user([active('A', ago(120)), active('B', ago(30))], {
        lifecycle: { A: { ...rotation, deactivatedAt: ago(20) } }
      }),
      expected: [warn('A', 'KEY_REACTIVATED', inDays(10))],
      notes: [/A: Active again after this tool deactivated it .* \(first time\)/],
      updates: [
        {
          accessKeyId: 'A',
          changes: { reactivations: 1, reactivationSeenAt: NOW },
          clears: ['deactivatedAt', 'firstSeenInactiveAt'],
          cause: 'reactivation-seen'
        }
      ]
    },
    {
      name: 'during the new grace period: still KEY_REACTIVATED, not fought',
      user: user([active('A', ago(120)), active('B', ago(30))], {
        lifecycle: { A: { ...rotation, reactivations: 1, reactivationSeenAt: ago(9) } }
      }),
      expected: [warn('A', 'KEY_REACTIVATED', inDays(1))]
    },
    {
      name: 'the new grace period over: deactivated once more',
      user: user([active('A', ago(120)), active('B', ago(30))], {
        lifecycle: { A: { ...rotation, reactivations: 1, reactivationSeenAt: ago(10) } }
      }),
      expected: [act('DEACTIVATE', 'A', 'INSTALL_GRACE_PERIOD_END')]
    },
    {
      name: 'second reactivation: BLOCKED, a person decides',
      user: user([active('A', ago(120)), active('B', ago(30))], {
        lifecycle: {
          A: { ...rotation, reactivations: 1, reactivationSeenAt: ago(9), deactivatedAt: ago(2) }
        }
      }),
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_OWNER')],
      notes: [/\(second time\)/],
      updates: [
        {
          accessKeyId: 'A',
          changes: { reactivations: 2, reactivationSeenAt: NOW },
          clears: ['deactivatedAt', 'firstSeenInactiveAt'],
          cause: 'reactivation-seen'
        }
      ]
    },
    {
      name: 'after the second reactivation: stays BLOCKED, never deactivated again',
      user: user([active('A', ago(150)), active('B', ago(60))], {
        lifecycle: {
          A: {
            rotatedAt: ago(60),
            replacementKeyId: 'B',
            reactivations: 2,
            reactivationSeenAt: ago(20)
          }
        }
      }),
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_OWNER')]
    },
    {
      name: 'a never-used key the tool deactivated, reactivated: a new grace period before step 1 acts again',
      user: user([active('N', ago(120), NEVER)], { lifecycle: { N: { deactivatedAt: ago(25) } } }),
      expected: [warn('N', 'KEY_REACTIVATED', inDays(10))],
      notes: [/first time/],
      updates: [
        {
          accessKeyId: 'N',
          changes: { reactivations: 1, reactivationSeenAt: NOW },
          clears: ['deactivatedAt', 'firstSeenInactiveAt'],
          cause: 'reactivation-seen'
        }
      ]
    }
  ])('$name', check)
})

describe('v2: an interrupted rotation (execution rule 3)', () => {
  const intent = { A: { rotationStartedAt: ago(1) } }
  const closed = {
    accessKeyId: 'A',
    changes: {},
    clears: ['rotationStartedAt'],
    cause: 'intent-closed'
  } satisfies LifecycleUpdate
  it.each<Row>([
    {
      name: 'a key made right after the intent, never used, not stored: an orphan, deleted; A rotated again',
      user: user([active('A', ago(95)), active('B', ago(1, 30), NEVER)], { lifecycle: intent }),
      expected: [
        act('DELETE', 'B', 'ORPHAN_KEY_REMOVED'),
        act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')
      ],
      notes: [/B was created by an interrupted rotation of A/]
    },
    {
      name: 'the secret could not be read: B may be in it, so it is kept',
      user: {
        ...user([active('A', ago(95)), active('B', ago(1, 30), NEVER)], { lifecycle: intent }),
        storedSecretUnknown: true
      },
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT')],
      notes: [/the secret could not be read, so it may hold it; it is not removed/]
    },
    {
      name: 'the secret holds it: the rotation got as far as storing it, recognised',
      user: user([active('A', ago(95)), active('B', ago(1, 30), NEVER)], {
        lifecycle: intent,
        storedSecretKeyId: 'B'
      }),
      expected: [],
      notes: [/B is taken as this tool's replacement of A: an interrupted rotation stored it/],
      updates: [
        {
          accessKeyId: 'A',
          changes: { rotatedAt: ago(1, 30), replacementKeyId: 'B' },
          clears: ['rotationStartedAt', 'reactivations', 'reactivationSeenAt'],
          cause: 'rotation-recognised'
        }
      ]
    },
    {
      name: 'a key made a day after the intent is not its orphan (a replayed intent deletes nothing)',
      user: user([active('A', ago(95)), active('B', ago(0, 60), NEVER)], { lifecycle: intent }),
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT')],
      updates: [closed]
    },
    {
      name: 'a key made after the intent but used: not an orphan',
      user: user([active('A', ago(95)), active('B', ago(1, 30), usedAt(ago(0, 60)))], {
        lifecycle: intent
      }),
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT')],
      notes: [/it has been used, so it is not taken for a leftover/],
      updates: [closed]
    },
    {
      name: 'its last use unknown: kept, the intent stays for a later run',
      user: user([active('A', ago(95)), active('B', ago(1, 30), UNKNOWN)], { lifecycle: intent }),
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT')],
      notes: [/last use is unknown .* not removed/]
    },
    {
      name: 'no key was made: the intent is closed and A rotates as usual',
      user: user([active('A', ago(95))], { lifecycle: intent }),
      expected: [act('ROTATE', 'A', 'EXPIRED_ACTIVE_KEY')],
      updates: [closed]
    }
  ])('$name', check)
})

describe('v2: state that is not state', () => {
  it.each<Row>([
    {
      name: 'a forged "A rotated long ago, replacement B" (one TagUser call): a conflict, not a deactivation',
      user: user([active('A', ago(100)), active('B', ago(50))], {
        records: {
          A: { origin: 'unverified', problem: 'its signature does not verify' }
        }
      }),
      expected: [act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT')],
      findings: [/signature does not verify/]
    },
    {
      name: 'a future rotation date does not silence two expired keys',
      user: user([active('A', ago(200)), active('B', ago(150))], {
        lifecycle: { A: { rotatedAt: inDays(300), replacementKeyId: 'B' } }
      }),
      expected: [
        act('BLOCKED', 'A', 'ROTATION_BLOCKED_BY_CONFLICT'),
        act('BLOCKED', 'B', 'ROTATION_BLOCKED_BY_CONFLICT')
      ],
      findings: [/is in the future/]
    },
    {
      name: 'a forged old deactivation on a key deactivated today: its recovery starts now',
      user: user([active('A', ago(30)), inactive('I', ago(300), usedAt(ago(0, 60)))], {
        records: { I: { origin: 'unverified', problem: 'it is not signed' } }
      }),
      expected: [],
      findings: [/not signed/],
      updates: [
        { accessKeyId: 'I', changes: { firstSeenInactiveAt: NOW }, cause: 'first-seen-inactive' }
      ]
    }
  ])('$name', check)
})

describe('execution rule 3: a rotation is done only when its user can read the new key', () => {
  // A rotation by this tool, 10 days ago: the installation grace period has just ended.
  const rotated = (lastUsed = usedAt(ago(5))) =>
    user([active('A', ago(100), lastUsed), active('B', ago(10))], {
      lifecycle: { A: { rotatedAt: ago(10), replacementKeyId: 'B' } }
    })

  it('asks for the check before deactivating, and waits until it has the answer', () => {
    const decision = evaluateUser(rotated(), DEFAULT_PARAMS, NOW)
    expect(decision.awaitsAccessCheck).toBe('B')
    expect(decision.actions.map(line)).toEqual([
      `WARN A DEACTIVATION_WAITS_FOR_NEW_KEY due ${inDays(10).toISOString()}`
    ])
  })

  it('deactivates once the user can read the new key', () => {
    const facts = { ...rotated(), newKeyAccess: { accessKeyId: 'B', readable: true } }
    const decision = evaluateUser(facts, DEFAULT_PARAMS, NOW)
    expect(decision.actions.map(line)).toEqual(['DEACTIVATE A INSTALL_GRACE_PERIOD_END'])
    expect(decision.awaitsAccessCheck).toBeUndefined()
  })

  it('waits with the problem and the fix while the user cannot, then blocks after Gi more days', () => {
    const facts = {
      ...rotated(),
      newKeyAccess: {
        accessKeyId: 'B',
        readable: false,
        problem: 'iam-key-rotation-read-own-secret is not attached',
        fix: 'attach it'
      }
    }
    const waiting = evaluateUser(facts, DEFAULT_PARAMS, NOW)
    expect(waiting.actions.map(line)).toEqual([
      `WARN A DEACTIVATION_WAITS_FOR_NEW_KEY due ${inDays(10).toISOString()}`
    ])
    expect(waiting.actions[0]?.detail).toMatch(/cannot read B yet: .*not attached\. Fix: attach it/)
    const blocked = evaluateUser(facts, DEFAULT_PARAMS, inDays(10))
    expect(blocked.actions.map(line)).toEqual(['BLOCKED A DEACTIVATION_WAITS_FOR_NEW_KEY'])
  })

  it('never takes an answer about another key', () => {
    const facts = { ...rotated(), newKeyAccess: { accessKeyId: 'C', readable: true } }
    expect(evaluateUser(facts, DEFAULT_PARAMS, NOW).actions.map(line)).toEqual([
      `WARN A DEACTIVATION_WAITS_FOR_NEW_KEY due ${inDays(10).toISOString()}`
    ])
  })
})

describe('old-key-in-use', () => {
  const rotated = (lastUsed: LastUsed) =>
    user([active('A', ago(100), lastUsed), active('B', ago(10))], {
      lifecycle: { A: { rotatedAt: ago(10), replacementKeyId: 'B' } }
    })
  const wait: Partial<PolicyParams> = { oldKeyInUse: 'wait', oldKeyQuietDays: 2 }
  const used = (days: number): LastUsed => ({
    kind: 'date',
    at: ago(days),
    service: 's3',
    region: 'eu-west-1'
  })

  it.each([
    {
      name: 'deactivate (default): deactivates an old key used an hour ago',
      params: {},
      lastUsed: used(1 / 24),
      expected: ['DEACTIVATE A INSTALL_GRACE_PERIOD_END']
    },
    {
      name: 'wait: holds an old key used within the quiet days',
      params: wait,
      lastUsed: used(1),
      expected: ['BLOCKED A OLD_KEY_STILL_IN_USE']
    },
    {
      name: 'wait: deactivates once the key has gone quiet',
      params: wait,
      lastUsed: used(2),
      expected: ['DEACTIVATE A INSTALL_GRACE_PERIOD_END']
    }
  ])('$name', ({ params, lastUsed, expected }) => {
    const decision = decide(rotated(lastUsed), { ...DEFAULT_PARAMS, ...params }, NOW)
    expect(decision.actions.map(line)).toEqual(expected)
  })

  it('names the last use, its service and region, and when the key counts as quiet', () => {
    const decision = decide(rotated(used(1)), { ...DEFAULT_PARAMS, ...wait }, NOW)
    expect(decision.actions[0]?.detail).toBe(
      `Last used ${ago(1).toISOString()} (s3 in eu-west-1); it is deactivated once unused for 2 days, from ${inDays(1).toISOString()}. Move that caller to the new key.`
    )
  })
})

describe('SECRET_NOT_OWNED', () => {
  const notOwned = 'secret iam-key-rotation/1/ci-bot was not created by this tool'

  it('blocks a due rotation instead of writing into a secret the tool did not create', () => {
    const facts = { ...user([active('A', ago(90))]), secretNotOwned: notOwned }
    const decision = evaluateUser(facts, DEFAULT_PARAMS, NOW)
    expect(decision.actions.map(line)).toEqual(['BLOCKED A SECRET_NOT_OWNED'])
    expect(decision.actions[0]?.detail).toContain(notOwned)
  })

  it('frees no slot for a rotation it blocks', () => {
    const facts = {
      ...user([active('A', ago(90)), inactive('I', ago(300), NEVER)], {
        lifecycle: { I: { deactivatedAt: ago(30) } }
      }),
      secretNotOwned: notOwned
    }
    const decision = evaluateUser(facts, DEFAULT_PARAMS, NOW)
    expect(decision.actions.map(line)).toEqual([
      'DELETE I RECOVER_GRACE_PERIOD_END',
      'BLOCKED A SECRET_NOT_OWNED'
    ])
  })

  it('changes nothing while no rotation is due', () => {
    const facts = { ...user([active('A', ago(10))]), secretNotOwned: notOwned }
    expect(evaluateUser(facts, DEFAULT_PARAMS, NOW).actions).toEqual([])
  })
})
