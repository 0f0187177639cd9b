import { describe, expect, it } from 'vitest'
import { addOutlooks, ageBuckets, KeyOutlook, OUTLOOK_DAYS } from '../../src/plan/outlook.js'

const POLICY = { R: 90, Gi: 10, Gr: 10, W: 7, U: 90 }
const NOW = new Date('2026-12-01T09:00:00Z')
const inDays = (days: number) => new Date(NOW.getTime() + days * 86_400_000)

describe('the key outlook', () => {
  it('cuts active key ages at the policy thresholds', () => {
    expect(ageBuckets(POLICY).map(b => b.label)).toEqual([
      '0–26',
      '27–53',
      '54–82',
      '83–89 warn',
      '90–99 due',
      '100+ overdue'
    ])
    // A policy without a warning window has no warning bucket, and no empty one.
    expect(ageBuckets({ ...POLICY, W: 0 }).map(b => b.label)).toEqual([
      '0–29',
      '30–59',
      '60–89',
      '90–99 due',
      '100+ overdue'
    ])
  })

  it.each([
    [{ R: 2, W: 1 }, ['0–0', '1–1 warn', '2–11 due', '12+ overdue']],
    [{ R: 5, W: 10 }, ['0–4 warn', '5–14 due', '15+ overdue']],
    [{ R: 30, W: 0 }, ['0–9', '10–19', '20–29', '30–39 due', '40+ overdue']]
  ])('has ascending buckets without repeats for small thresholds (%j)', (change, labels) => {
    expect(ageBuckets({ ...POLICY, ...change }).map(b => b.label)).toEqual(labels)
  })

  it.each([
    [0, '0–26'],
    [26, '0–26'],
    [83, '83–89 warn'],
    [89, '83–89 warn'],
    [90, '90–99 due'],
    [100, '100+ overdue'],
    [4000, '100+ overdue']
  ])('counts an active key of %i days in %s', (age, label) => {
    const outlook = new KeyOutlook(POLICY, NOW)
    outlook.addKey('Active', age)
    const counted = outlook.toPlan().activeKeyAges.filter(b => b.keys > 0)
    expect(counted).toEqual([{ label, keys: 1 }])
  })

  it('counts inactive keys apart from the ages', () => {
    const outlook = new KeyOutlook(POLICY, NOW)
    outlook.addKey('Inactive', 120)
    const plan = outlook.toPlan()
    expect(plan.inactiveKeys).toBe(1)
    expect(plan.activeKeyAges.every(b => b.keys === 0)).toBe(true)
  })

  it('counts changes per day for 30 days: past dues on the first day, warnings and later days not', () => {
    const outlook = new KeyOutlook(POLICY, NOW)
    outlook.addDue('ROTATE', inDays(-3))
    outlook.addDue('ROTATE', NOW)
    outlook.addDue('DEACTIVATE', inDays(5))
    outlook.addDue('DELETE', inDays(OUTLOOK_DAYS - 1))
    outlook.addDue('DELETE', inDays(OUTLOOK_DAYS))
    outlook.addDue('WARN', inDays(1))
    outlook.addDue('BLOCKED', NOW)
    const days = outlook.toPlan().duePerDay
    expect(days).toHaveLength(OUTLOOK_DAYS)
    expect(days[0]).toEqual({ day: '2026-12-01', rotate: 2, deactivate: 0, delete: 0 })
    expect(days[5]).toEqual({ day: '2026-12-06', rotate: 0, deactivate: 1, delete: 0 })
    expect(days[OUTLOOK_DAYS - 1]).toEqual({
      day: '2026-12-30',
      rotate: 0,
      deactivate: 0,
      delete: 1
    })
    const total = days.reduce((n, d) => n + d.rotate + d.deactivate + d.delete, 0)
    expect(total).toBe(4)
  })

  it('adds up the outlooks of shards', () => {
    const a = new KeyOutlook(POLICY, NOW)
    const b = new KeyOutlook(POLICY, NOW)
    a.addKey('Active', 10)
    b.addKey('Active', 12)
    b.addKey('Inactive', 200)
    a.addDue('ROTATE', NOW)
    b.addDue('ROTATE', NOW)
    const sum = addOutlooks(a.toPlan(), b.toPlan())
    expect(sum.activeKeyAges[0]).toEqual({ label: '0–26', keys: 2 })
    expect(sum.inactiveKeys).toBe(1)
    expect(sum.duePerDay[0]?.rotate).toBe(2)
  })

  it('adds shards that ran either side of midnight by date', () => {
    const today = new KeyOutlook(POLICY, NOW)
    const yesterday = new KeyOutlook(POLICY, inDays(-1))
    yesterday.addDue('ROTATE', inDays(-1)) // due on its day: counts on today's first day
    yesterday.addDue('DELETE', inDays(3))
    const sum = addOutlooks(today.toPlan(), yesterday.toPlan())
    expect(sum.duePerDay).toHaveLength(OUTLOOK_DAYS)
    expect(sum.duePerDay[0]).toEqual({ day: '2026-12-01', rotate: 1, deactivate: 0, delete: 0 })
    expect(sum.duePerDay[3]).toEqual({ day: '2026-12-04', rotate: 0, deactivate: 0, delete: 1 })
  })
})
