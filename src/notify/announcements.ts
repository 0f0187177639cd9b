import type { LifecycleUpdate, UserDecision } from '../policy/index.js'
import { DAY_MS, warningWindowDays } from './warning-days.js'

/** A warning as `announcements` names it: key and reason. */
export function warningKey(accessKeyId: string, reason: string): string {
  return `${accessKeyId}/${reason}`
}

/**
 * The warnings of a decision that no earlier enforce run announced in their current window, and
 * the record that announces them (persisted in enforce mode, signed like all state). A warning's
 * window opens `warningWindowDays` before its due date; a key's `warnedAt` at or after that
 * moment means a run already announced it, so its entry mail went out then. A run on any day of
 * the window finds an unannounced warning: a skipped day cannot lose the entry mail.
 */
export function announcements(
  decision: UserDecision,
  policy: { readonly W: number; readonly Gi: number; readonly Gr: number },
  now: Date
): { readonly first: ReadonlySet<string>; readonly updates: readonly LifecycleUpdate[] } {
  const first = new Set<string>()
  const keys = new Set<string>()
  for (const action of decision.actions) {
    if (action.type !== 'WARN' || !action.dueAt) continue
    const opens = action.dueAt.getTime() - warningWindowDays(action.reason, policy) * DAY_MS
    const warnedAt = decision.trusted[action.accessKeyId]?.warnedAt
    if (warnedAt !== undefined && warnedAt.getTime() >= opens) continue
    first.add(warningKey(action.accessKeyId, action.reason))
    keys.add(action.accessKeyId)
  }
  return {
    first,
    updates: [...keys].map(accessKeyId => ({
      accessKeyId,
      changes: { warnedAt: now },
      cause: 'warning-announced' as const
    }))
  }
}
