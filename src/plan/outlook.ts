import type { ActionType } from '../policy/index.js'
import type { Plan, PlanOutlook } from './types.js'

const DAY_MS = 86_400_000
/** How far ahead the outlook counts what falls due. */
export const OUTLOOK_DAYS = 30

/** A bucket of key ages: [from, to) in days; `to` undefined is open-ended. */
interface AgeBucket {
  readonly from: number
  readonly to: number | undefined
  readonly label: string
}

/**
 * The age buckets for the policy: the time before the warning window in three parts, the
 * warning window, the installation grace after the rotation is due, and past it.
 */
export function ageBuckets(policy: Plan['policy']): AgeBucket[] {
  const warnFrom = Math.max(0, policy.R - policy.W)
  const third = Math.max(1, Math.floor(warnFrom / 3))
  // Ascending and without repeats, however small the thresholds (R = 2, W = 1, Gi = 10 gives 0, 1, 2, 12).
  const thirds = warnFrom >= 3 ? [third, 2 * third] : []
  const edges = [0, ...thirds, warnFrom, policy.R, policy.R + policy.Gi].filter(
    (edge, i, all) => i === 0 || edge > Math.max(...all.slice(0, i))
  )
  const buckets: AgeBucket[] = []
  for (let i = 0; i < edges.length; i++) {
    const from = edges[i] ?? 0
    const to = edges[i + 1]
    const days = to === undefined ? `${from}+` : `${from}–${to - 1}`
    const note =
      from === warnFrom && to === policy.R
        ? ' warn'
        : from === policy.R
          ? ' due'
          : to === undefined
            ? ' overdue'
            : ''
    buckets.push({ from, to, label: `${days}${note}` })
  }
  return buckets
}

/**
 * Counts every key in scope as the scan sees it, in constant memory: active keys by age, and
 * the change the key policy makes to each (or the next one it will make) on the day it falls due.
 */
export class KeyOutlook {
  private readonly buckets: AgeBucket[]
  private readonly ageCounts: number[]
  private inactive = 0
  private readonly firstDay: number
  private readonly due = new Map<number, { rotate: number; deactivate: number; delete: number }>()

  constructor(policy: Plan['policy'], now: Date) {
    this.buckets = ageBuckets(policy)
    this.ageCounts = this.buckets.map(() => 0)
    this.firstDay = Math.floor(now.getTime() / DAY_MS)
  }

  addKey(status: 'Active' | 'Inactive', ageDays: number): void {
    if (status !== 'Active') {
      this.inactive++
      return
    }
    const index = this.buckets.findIndex(
      b => ageDays >= b.from && (b.to === undefined || ageDays < b.to)
    )
    const at = index === -1 ? 0 : index
    this.ageCounts[at] = (this.ageCounts[at] ?? 0) + 1
  }

  /** A change due on `at` (a day already past counts on the run's day); others are ignored. */
  addDue(type: ActionType, at: Date): void {
    const kind =
      type === 'ROTATE'
        ? 'rotate'
        : type === 'DEACTIVATE'
          ? 'deactivate'
          : type === 'DELETE'
            ? 'delete'
            : undefined
    if (!kind) return
    const offset = Math.max(0, Math.floor(at.getTime() / DAY_MS) - this.firstDay)
    if (offset >= OUTLOOK_DAYS) return
    const day = this.due.get(offset) ?? { rotate: 0, deactivate: 0, delete: 0 }
    day[kind]++
    this.due.set(offset, day)
  }

  toPlan(): PlanOutlook {
    const duePerDay: PlanOutlook['duePerDay'] = []
    for (let offset = 0; offset < OUTLOOK_DAYS; offset++) {
      const counts = this.due.get(offset) ?? { rotate: 0, deactivate: 0, delete: 0 }
      const day = new Date((this.firstDay + offset) * DAY_MS).toISOString().slice(0, 10)
      duePerDay.push({ day, ...counts })
    }
    return {
      activeKeyAges: this.buckets.map((bucket, i) => ({
        label: bucket.label,
        keys: this.ageCounts[i] ?? 0
      })),
      inactiveKeys: this.inactive,
      duePerDay
    }
  }
}

/**
 * The outlooks of shards of one run, added up on `a`'s days: matched by date, since shard jobs
 * can start either side of midnight UTC (a day before `a`'s first counts on its first, as a past
 * due does; one after its last is beyond the outlook).
 */
export function addOutlooks(a: PlanOutlook, b: PlanOutlook): PlanOutlook {
  const first = a.duePerDay[0]?.day ?? ''
  const days = new Map(a.duePerDay.map(day => [day.day, { ...day }]))
  for (const other of b.duePerDay) {
    const day = days.get(other.day < first ? first : other.day)
    if (!day) continue
    day.rotate += other.rotate
    day.deactivate += other.deactivate
    day.delete += other.delete
  }
  return {
    activeKeyAges: a.activeKeyAges.map((bucket, i) => ({
      label: bucket.label,
      keys: bucket.keys + (b.activeKeyAges[i]?.keys ?? 0)
    })),
    inactiveKeys: a.inactiveKeys + b.inactiveKeys,
    duePerDay: [...days.values()]
  }
}
