import { describe, expect, it } from 'vitest'
import {
  daysUntilDue,
  shouldNotifyWarning,
  warningWindowDays
} from '../../src/notify/warning-days.js'
import { evaluateUser, type PolicyParams } from '../../src/policy/index.js'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
const CREATED = new Date('2025-01-01T10:00:00.000Z')
const R = 90
const W = 7
const DUE = new Date(CREATED.getTime() + R * DAY_MS)

/** The daily run on day `day` of the key's life, `offsetMs` after the key's time of day. */
function run(day: number, offsetMs: number): Date {
  return new Date(CREATED.getTime() + day * DAY_MS + offsetMs)
}

describe('daysUntilDue', () => {
  it.each([
    [0, 7],
    [1, 7],
    [DAY_MS - 1, 7],
    [DAY_MS, 6]
  ])('%i ms after day 83 → %i days left', (offset, left) => {
    expect(daysUntilDue(DUE, run(83, offset))).toBe(left)
  })

  it('is 0, not -0, just after the due moment', () => {
    expect(Object.is(daysUntilDue(DUE, run(90, 1)), 0)).toBe(true)
  })
})

describe('shouldNotifyWarning: a daily walk, R = 90, W = 7, reminder-days 1', () => {
  const offsets = [0, 1, HOUR_MS, 12 * HOUR_MS, DAY_MS - 60_000]
  for (const offset of offsets) {
    it(`mails on day 83 (entering the window) and day 89 (1 day before) only, run at +${offset} ms`, () => {
      const days = Array.from({ length: 12 }, (_, i) => 80 + i)
      const mailed = days.filter(day => shouldNotifyWarning(DUE, run(day, offset), W, [1]))
      expect(mailed).toEqual([83, 89])
    })
  }

  it.each([
    // [day, days left, mailed]
    [82, 8, false],
    [83, 7, true],
    [84, 6, false],
    [85, 5, false],
    [86, 4, false],
    [87, 3, false],
    [88, 2, false],
    [89, 1, true],
    [90, 0, false]
  ])('day %i: %i days left → %s', (day, left, mailed) => {
    const now = run(day, 3 * HOUR_MS)
    expect(daysUntilDue(DUE, now)).toBe(left)
    expect(shouldNotifyWarning(DUE, now, W, [1])).toBe(mailed)
  })

  it('agrees with the key policy: the first run with a WARN is the entry mail, exactly once', () => {
    const params: PolicyParams = {
      rotationDays: R,
      installationGraceDays: 10,
      recoveryGraceDays: 10,
      warningDays: W,
      conflictResolution: 'issue',
      oldKeyInUse: 'deactivate',
      oldKeyQuietDays: 2
    }
    for (const offset of [0, 5 * HOUR_MS, DAY_MS - 1]) {
      const mails: number[] = []
      for (let day = 75; day <= 95; day++) {
        const now = run(day, offset)
        const decision = evaluateUser(
          {
            userName: 'app',
            keys: [
              {
                accessKeyId: 'K1',
                status: 'Active',
                createdAt: CREATED,
                lastUsed: { kind: 'date', at: new Date(now.getTime() - DAY_MS) }
              }
            ],
            records: {},
            exempt: false,
            forced: false
          },
          params,
          now
        )
        for (const planned of decision.actions) {
          if (planned.type !== 'WARN' || !planned.dueAt) continue
          if (shouldNotifyWarning(planned.dueAt, now, W, [1])) mails.push(day)
        }
      }
      expect(mails).toEqual([83, 89])
    }
  })
})

describe('shouldNotifyWarning: other settings', () => {
  it.each([
    // [W, reminder days, days left that mail]
    [7, [3, 1], [7, 3, 1]],
    [14, [7, 1], [14, 7, 1]],
    [7, [7], [7]],
    [7, [], [7]],
    [7, [0, 10], [7]],
    [1, [1], [1]]
  ])('W = %i, reminder-days %j → mails with %j days left', (warningDays, reminders, expected) => {
    const left = Array.from({ length: 20 }, (_, i) => 19 - i)
    const mailed = left.filter(days =>
      shouldNotifyWarning(
        DUE,
        new Date(DUE.getTime() - days * DAY_MS + HOUR_MS),
        warningDays,
        reminders
      )
    )
    expect(mailed).toEqual(expected)
  })
})

describe('warningWindowDays', () => {
  const policy = { W: 7, Gi: 10, Gr: 10 }
  it('is W for warnings whose lead time is longer than W', () => {
    expect(warningWindowDays('KEY_PENDING_ROTATION', policy)).toBe(7)
    expect(warningWindowDays('KEY_PENDING_DEACTIVATION', policy)).toBe(7)
    expect(warningWindowDays('KEY_PENDING_DELETION', policy)).toBe(7)
  })

  it('is the grace period when that is shorter than W', () => {
    const short = { W: 7, Gi: 3, Gr: 5 }
    expect(warningWindowDays('KEY_PENDING_DEACTIVATION', short)).toBe(3)
    expect(warningWindowDays('KEY_PENDING_DELETION', short)).toBe(5)
    expect(warningWindowDays('KEY_PENDING_DELETION_CONFLICT', short)).toBe(7)
  })
})
