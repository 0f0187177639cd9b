import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type KeyRecord,
  type LastUsed,
  type LifecycleUpdate,
  type PlannedAction,
  type PolicyParams,
  type RecordClaim
} from '../../src/policy/index.js'
import { DAY_MS, DEFAULT_PARAMS, NOW, decide } from './builders.js'

// key-policy.md v2, over whole histories: random sequences of runs (some cut short by a crash
// after any write of a rotation), people deactivating, reactivating, using and deleting keys,
// and forged or unsigned tags. A small model of execution (apply-user.ts) writes what the
// tool would write, signed; everything else arrives unsigned or with a broken signature.
// Two invariants hold at every step:
// - no key used within the last Gr days is ever deleted;
// - no key is deactivated on forged or unverifiable state: INSTALL_GRACE_PERIOD_END only ever
//   deactivates the old key of a rotation the tool really made.

interface SimKey {
  id: string
  status: 'Active' | 'Inactive'
  createdAt: Date
  lastUsed: LastUsed
}

interface Sim {
  now: Date
  keys: SimKey[]
  records: Record<string, RecordClaim>
  /** Ground truth: old key → the replacement this tool created and stored. */
  rotations: Map<string, string>
  /** The key the tool's own secret holds (its marker verifies). */
  stored?: string
  nextId: number
}

type Event =
  | { kind: 'advance'; hours: number }
  | { kind: 'use'; slot: number }
  | { kind: 'deactivate'; slot: number }
  | { kind: 'reactivate'; slot: number }
  | { kind: 'delete'; slot: number }
  | { kind: 'create' }
  | { kind: 'forge'; slot: number; record: ForgedRecord; signed: boolean }
  | { kind: 'run'; forced: boolean; crashAfterWrite?: number }

interface ForgedRecord {
  daysAgo: number
  field: 'rotatedAt' | 'deactivatedAt' | 'firstSeenInactiveAt' | 'rotationStartedAt'
  replacementSlot?: number
  /** Dated at the other key's creation, copied from a plan: what makes a forgery look right. */
  copyCreation: boolean
}

const event: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      hours: fc.integer({ min: 1, max: 24 * 40 })
    })
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('use' as const), slot: fc.nat(1) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('deactivate' as const), slot: fc.nat(1) })
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('reactivate' as const), slot: fc.nat(1) })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), slot: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('create' as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('forge' as const),
      slot: fc.nat(1),
      signed: fc.boolean(),
      record: fc.record(
        {
          daysAgo: fc.integer({ min: -30, max: 400 }),
          field: fc.constantFrom(
            'rotatedAt' as const,
            'deactivatedAt' as const,
            'firstSeenInactiveAt' as const,
            'rotationStartedAt' as const
          ),
          replacementSlot: fc.nat(1),
          copyCreation: fc.boolean()
        },
        { requiredKeys: ['daysAgo', 'field', 'copyCreation'] }
      )
    })
  },
  {
    weight: 5,
    arbitrary: fc.record(
      {
        kind: fc.constant('run' as const),
        forced: fc.boolean(),
        crashAfterWrite: fc.integer({ min: 0, max: 4 })
      },
      { requiredKeys: ['kind', 'forced'] }
    )
  }
)

const params: fc.Arbitrary<PolicyParams> = fc
  .record({
    rotationDays: fc.constantFrom(30, 90),
    installationGraceDays: fc.constantFrom(1, 10),
    recoveryGraceDays: fc.constantFrom(1, 10),
    warningDays: fc.constantFrom(0, 7),
    conflictResolution: fc.constantFrom('issue' as const, 'lru' as const),
    oldKeyInUse: fc.constantFrom('deactivate' as const, 'wait' as const),
    oldKeyQuietDays: fc.integer({ min: 1, max: 5 })
  })
  .filter(p => p.warningDays < p.rotationDays)

function start(): Sim {
  const first: SimKey = {
    id: 'K0',
    status: 'Active',
    createdAt: new Date(NOW.getTime() - 60 * DAY_MS),
    lastUsed: { kind: 'date', at: NOW }
  }
  return { now: NOW, keys: [first], records: {}, rotations: new Map(), nextId: 1 }
}

function newKey(sim: Sim): SimKey {
  const key: SimKey = {
    id: `K${sim.nextId++}`,
    status: 'Active',
    createdAt: sim.now,
    lastUsed: { kind: 'never' }
  }
  sim.keys.push(key)
  return key
}

function signedRecord(sim: Sim, id: string, record: KeyRecord): void {
  sim.records[id] = { origin: 'signed', record }
}

/** The model of apply-user.ts, one enforce run; throws Crash after the chosen write. */
class Crash extends Error {}

function runOnce(sim: Sim, p: PolicyParams, forced: boolean, crashAfterWrite?: number): void {
  const decision = decide(
    {
      userName: 'u',
      keys: sim.keys.map(k => ({ accessKeyId: k.id, ...k })),
      records: sim.records,
      exempt: false,
      forced,
      ...(sim.stored ? { storedSecretKeyId: sim.stored } : {})
    },
    p,
    sim.now
  )
  let writes = 0
  const write = () => {
    if (crashAfterWrite !== undefined && ++writes > crashAfterWrite) throw new Crash()
  }
  const trusted = new Map(Object.entries(decision.trusted))
  const update = (u: Pick<LifecycleUpdate, 'accessKeyId' | 'changes' | 'clears'>) => {
    const kept: Record<string, unknown> = { ...trusted.get(u.accessKeyId) }
    for (const field of u.clears ?? []) delete kept[field]
    const key = sim.keys.find(k => k.id === u.accessKeyId)
    const next = {
      ...(kept as KeyRecord),
      ...u.changes,
      ...(key ? { createdAt: key.createdAt } : {})
    }
    trusted.set(u.accessKeyId, next)
    signedRecord(sim, u.accessKeyId, next)
  }
  try {
    if (decision.lifecycleUpdates.length > 0) {
      for (const u of decision.lifecycleUpdates) update(u)
      write()
    }
    for (const action of decision.actions) apply(sim, p, action, update, write)
  } catch (error) {
    if (!(error instanceof Crash)) throw error
  }
}

function apply(
  sim: Sim,
  p: PolicyParams,
  action: PlannedAction,
  update: (u: Pick<LifecycleUpdate, 'accessKeyId' | 'changes' | 'clears'>) => void,
  write: () => void
): void {
  const key = sim.keys.find(k => k.id === action.accessKeyId)
  if (!key) return
  switch (action.type) {
    case 'DELETE': {
      const lastUse = key.lastUsed
      expect(
        lastUse.kind !== 'date' ||
          sim.now.getTime() - lastUse.at.getTime() >= p.recoveryGraceDays * DAY_MS,
        `deleted ${key.id}, used ${lastUse.kind === 'date' ? lastUse.at.toISOString() : ''} at ${sim.now.toISOString()}`
      ).toBe(true)
      sim.keys = sim.keys.filter(k => k !== key)
      delete sim.records[key.id]
      write()
      return
    }
    case 'DEACTIVATE': {
      if (action.reason === 'INSTALL_GRACE_PERIOD_END') {
        const replacement = sim.rotations.get(key.id)
        expect(replacement, `${key.id} deactivated without a real rotation`).toBeDefined()
        expect(sim.keys.some(k => k.id === replacement)).toBe(true)
      } else if (action.reason === 'UNUSED_EXPIRED_KEY') {
        expect(key.lastUsed.kind).toBe('never')
      }
      key.status = 'Inactive'
      write()
      update({ accessKeyId: key.id, changes: { deactivatedAt: sim.now } })
      write()
      return
    }
    case 'ROTATE': {
      if (sim.keys.length >= 2) return // IAM: LimitExceeded
      update({ accessKeyId: key.id, changes: { rotationStartedAt: sim.now } })
      write()
      const made = newKey(sim)
      write()
      sim.stored = made.id
      sim.rotations.set(key.id, made.id)
      write()
      update({
        accessKeyId: key.id,
        changes: { rotatedAt: made.createdAt, replacementKeyId: made.id },
        clears: ['rotationStartedAt', 'reactivations', 'reactivationSeenAt']
      })
      signedRecord(sim, made.id, { createdAt: made.createdAt })
      write()
      return
    }
    case 'WARN':
    case 'BLOCKED':
      return
  }
}

function happen(sim: Sim, p: PolicyParams, e: Event): void {
  const key = 'slot' in e ? sim.keys[e.slot] : undefined
  switch (e.kind) {
    case 'advance':
      sim.now = new Date(sim.now.getTime() + e.hours * 3_600_000)
      return
    case 'use':
      if (key?.status === 'Active') key.lastUsed = { kind: 'date', at: sim.now }
      return
    case 'deactivate':
      if (key) key.status = 'Inactive'
      return
    case 'reactivate':
      if (key) key.status = 'Active'
      return
    case 'delete':
      if (key) sim.keys = sim.keys.filter(k => k !== key)
      return
    case 'create':
      if (sim.keys.length < 2) newKey(sim).lastUsed = { kind: 'date', at: sim.now }
      return
    case 'forge': {
      if (!key) return
      const other =
        e.record.replacementSlot === undefined ? undefined : sim.keys[e.record.replacementSlot]
      const at =
        e.record.copyCreation && other
          ? other.createdAt
          : new Date(sim.now.getTime() - e.record.daysAgo * DAY_MS)
      const record: KeyRecord = {
        createdAt: key.createdAt,
        [e.record.field]: at,
        ...(e.record.field === 'rotatedAt' && other ? { replacementKeyId: other.id } : {})
      }
      // Anyone with iam:TagUser writes an unsigned record, or pastes a signature that does not
      // match it; the scan reports the second as unverified.
      sim.records[key.id] = e.signed
        ? { origin: 'unverified', problem: 'its signature does not verify' }
        : { origin: 'legacy', record }
      return
    }
    case 'run':
      runOnce(sim, p, e.forced, e.crashAfterWrite)
      return
  }
}

describe('key policy v2 over whole histories', () => {
  it('never deletes a key used within Gr days, never deactivates on forged state', () => {
    fc.assert(
      fc.property(params, fc.array(event, { minLength: 1, maxLength: 60 }), (p, events) => {
        const sim = start()
        for (const e of events) happen(sim, p, e)
      }),
      { numRuns: 3_000 }
    )
  })

  it('the defaults hold over a year of daily runs with a person fighting back', () => {
    const sim = start()
    for (let day = 0; day < 365; day++) {
      sim.now = new Date(NOW.getTime() + day * DAY_MS)
      for (const key of sim.keys)
        if (key.status === 'Active') key.lastUsed = { kind: 'date', at: sim.now }
      if (day % 45 === 44) for (const key of sim.keys) key.status = 'Active'
      runOnce(sim, DEFAULT_PARAMS, false, day % 7 === 3 ? day % 5 : undefined)
    }
    expect(sim.keys.length).toBeGreaterThan(0)
  })
})
