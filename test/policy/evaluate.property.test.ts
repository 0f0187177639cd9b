import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  REASON_SENTENCES,
  evaluateUser,
  type ActionType,
  type KeyFacts,
  type KeyLifecycle,
  type LastUsed,
  type PolicyParams,
  type UserFacts
} from '../../src/policy/index.js'
import { DAY_MS, NOW, decide } from './builders.js'

// Invariants that must hold for every user, whatever the table says row by row.

const KEY_IDS = ['K0', 'K1', 'K2'] as const

/** A moment 0–400 days before NOW: often on whole days (the boundaries), otherwise any ms. */
const momentAgo = fc
  .oneof(
    fc.integer({ min: 0, max: 400 }).map(days => days * DAY_MS),
    fc.integer({ min: 0, max: 400 * DAY_MS })
  )
  .map(ms => new Date(NOW.getTime() - ms))

const lastUsed: fc.Arbitrary<LastUsed> = fc.oneof(
  fc.constant<LastUsed>({ kind: 'never' }),
  fc.constant<LastUsed>({ kind: 'unknown' }),
  momentAgo.map((at): LastUsed => ({ kind: 'date', at }))
)

const keyFacts = (accessKeyId: string): fc.Arbitrary<KeyFacts> =>
  fc.record({
    accessKeyId: fc.constant(accessKeyId),
    status: fc.constantFrom('Active' as const, 'Inactive' as const),
    createdAt: momentAgo,
    lastUsed
  })

const lifecycle: fc.Arbitrary<KeyLifecycle> = fc.record(
  {
    rotatedAt: momentAgo,
    replacementKeyId: fc.constantFrom(...KEY_IDS, 'GONE'),
    deactivatedAt: momentAgo,
    firstSeenInactiveAt: momentAgo
  },
  { requiredKeys: [] }
)

// 0–2 keys as AWS allows, and now and then a third to exercise the defensive path.
const userFacts: fc.Arbitrary<UserFacts> = fc
  .oneof(
    { weight: 9, arbitrary: fc.integer({ min: 0, max: 2 }) },
    { weight: 1, arbitrary: fc.constant(3) }
  )
  .chain(count => {
    const ids = KEY_IDS.slice(0, count)
    return fc.record(
      {
        userName: fc.constant('ci-bot'),
        keys: fc.tuple(...ids.map(keyFacts)),
        records: fc.tuple(...ids.map(() => fc.option(lifecycle, { nil: undefined }))).map(states =>
          Object.fromEntries(
            ids.flatMap((id, index) => {
              const state = states[index]
              return state === undefined ? [] : [[id, { origin: 'signed', record: state }]]
            })
          )
        ),
        exempt: fc.integer({ min: 0, max: 9 }).map(n => n === 0),
        forced: fc.boolean(),
        storedSecretKeyId: fc.constantFrom(...KEY_IDS, 'OTHER')
      },
      { requiredKeys: ['userName', 'keys', 'records', 'exempt', 'forced'] }
    )
  })

// R ≥ 1, Gi ≥ 1, Gr ≥ 1, 0 ≤ W < R: what inputs.ts lets through.
const policyParams: fc.Arbitrary<PolicyParams> = fc
  .integer({ min: 1, max: 400 })
  .chain(rotationDays =>
    fc.record({
      rotationDays: fc.constant(rotationDays),
      installationGraceDays: fc.integer({ min: 1, max: 60 }),
      recoveryGraceDays: fc.integer({ min: 1, max: 60 }),
      warningDays: fc.integer({ min: 0, max: rotationDays - 1 }),
      conflictResolution: fc.constantFrom('issue' as const, 'lru' as const),
      oldKeyInUse: fc.constantFrom('deactivate' as const, 'wait' as const),
      oldKeyQuietDays: fc.integer({ min: 1, max: 5 })
    })
  )

const CHANGES: readonly ActionType[] = ['ROTATE', 'DEACTIVATE', 'DELETE', 'BLOCKED']
const ORDER: readonly ActionType[] = ['DELETE', 'DEACTIVATE', 'ROTATE', 'BLOCKED', 'WARN']

function holds(predicate: (user: UserFacts, params: PolicyParams) => void): void {
  fc.assert(fc.property(userFacts, policyParams, predicate), { numRuns: 3_000 })
}

function keyOf(user: UserFacts, accessKeyId: string): KeyFacts {
  const found = user.keys.find(key => key.accessKeyId === accessKeyId)
  if (found === undefined) throw new Error(`action on a key the user does not have: ${accessKeyId}`)
  return found
}

describe('evaluateUser invariants', () => {
  it('never plans more than one ROTATE per user', () => {
    holds((user, params) => {
      const rotations = decide(user, params, NOW).actions.filter(a => a.type === 'ROTATE')
      expect(rotations.length).toBeLessThanOrEqual(1)
    })
  })

  it('never plans DEACTIVATE or DELETE for a key whose last use is unknown', () => {
    holds((user, params) => {
      for (const action of decide(user, params, NOW).actions) {
        if (action.type === 'DEACTIVATE' || action.type === 'DELETE') {
          expect(keyOf(user, action.accessKeyId).lastUsed.kind).not.toBe('unknown')
        }
      }
    })
  })

  it('never DELETEs an Active key, never DEACTIVATEs an Inactive one', () => {
    holds((user, params) => {
      for (const action of decide(user, params, NOW).actions) {
        const { status } = keyOf(user, action.accessKeyId)
        if (action.type === 'DELETE') expect(status).toBe('Inactive')
        if (action.type === 'DEACTIVATE') expect(status).toBe('Active')
      }
    })
  })

  it('plans nothing and records nothing for an exempt user', () => {
    holds((user, params) => {
      const decision = decide({ ...user, exempt: true }, params, NOW)
      expect(decision.actions).toEqual([])
      expect(decision.lifecycleUpdates).toEqual([])
    })
  })

  it('acts and records only on keys the user has', () => {
    holds((user, params) => {
      const ids = user.keys.map(key => key.accessKeyId)
      const decision = decide(user, params, NOW)
      for (const action of decision.actions) expect(ids).toContain(action.accessKeyId)
      for (const update of decision.lifecycleUpdates) expect(ids).toContain(update.accessKeyId)
    })
  })

  it('gives every action the sentence of its reason, and a due date exactly to warnings', () => {
    holds((user, params) => {
      for (const action of decide(user, params, NOW).actions) {
        expect(action.message).toBe(REASON_SENTENCES[action.reason])
        expect(action.reason).not.toBe('STATE_CHANGED')
        expect(action.dueAt !== undefined).toBe(action.type === 'WARN')
      }
    })
  })

  it('lists actions in execution order (DELETE before ROTATE)', () => {
    holds((user, params) => {
      const ranks = decide(user, params, NOW).actions.map(a => ORDER.indexOf(a.type))
      expect(ranks).toEqual([...ranks].sort((p, q) => p - q))
    })
  })

  it('gives a key at most one change and at most one warning', () => {
    holds((user, params) => {
      const actions = decide(user, params, NOW).actions
      for (const { accessKeyId } of user.keys) {
        const mine = actions.filter(a => a.accessKeyId === accessKeyId)
        expect(mine.filter(a => CHANGES.includes(a.type)).length).toBeLessThanOrEqual(1)
        expect(mine.filter(a => a.type === 'WARN').length).toBeLessThanOrEqual(1)
      }
    })
  })

  it('is deterministic and leaves its input alone', () => {
    holds((user, params) => {
      const before = structuredClone(user)
      const first = decide(user, params, NOW)
      expect(decide(structuredClone(user), { ...params }, new Date(NOW))).toEqual(first)
      expect(user).toEqual(before)
    })
  })

  it('does not depend on the order in which IAM lists the keys', () => {
    holds((user, params) => {
      const reversed = { ...user, keys: [...user.keys].reverse() }
      const sortById = (d: ReturnType<typeof evaluateUser>) =>
        [...d.actions].sort(
          (p, q) =>
            ORDER.indexOf(p.type) - ORDER.indexOf(q.type) ||
            p.accessKeyId.localeCompare(q.accessKeyId)
        )
      expect(sortById(decide(reversed, params, NOW))).toEqual(sortById(decide(user, params, NOW)))
    })
  })

  it('leaves alone a user whose keys are all active and younger than R − W', () => {
    holds((user, params) => {
      const young = user.keys.map(key => ({
        ...key,
        status: 'Active' as const,
        createdAt: new Date(
          NOW.getTime() -
            ((key.createdAt.getTime() % DAY_MS) / DAY_MS) *
              (params.rotationDays - params.warningDays) *
              DAY_MS
        )
      }))
      const calm: UserFacts = {
        userName: user.userName,
        keys: young.slice(0, 2),
        records: {},
        exempt: false,
        forced: false
      }
      const decision = decide(calm, params, NOW)
      expect(decision.actions).toEqual([])
      expect(decision.lifecycleUpdates).toEqual([])
    })
  })
})
