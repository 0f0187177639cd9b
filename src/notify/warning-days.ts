import type { ReasonCode } from '../policy/index.js'

export const DAY_MS = 86_400_000

/**
 * Whole days left until `dueAt`, rounded up: a run 6 d 23 h before the due moment says 7. This
 * is the same threshold the key policy uses: a WARN exists once `dueAt − now ≤ W days`, that is
 * once this number is ≤ W, so the first run that carries a WARN sees exactly W.
 */
export function daysUntilDue(dueAt: Date, now: Date): number {
  // `+ 0` turns the -0 of a due moment a little in the past into 0.
  return Math.ceil((dueAt.getTime() - now.getTime()) / DAY_MS) + 0
}

/**
 * Whether a WARN is mailed on this run, without any state from earlier runs, for a schedule
 * that runs once a day:
 *
 * - on the day the key enters the warning window: `daysUntilDue === warningDays`. The run the
 *   day before saw more than W days left (no WARN yet), this run sees at most W, so exactly one
 *   run per key matches;
 * - on each reminder day: `daysUntilDue` is in `reminderDays` (days before due, e.g. `[1]`).
 *
 * Nothing is mailed once the due moment has passed (0 days left: the action itself is due then),
 * so reminder days of 0 or of more than `warningDays` never match.
 * A run more than one day after the previous one may miss the entry mail; a second run on the
 * same day may repeat it.
 */
export function shouldNotifyWarning(
  dueAt: Date,
  now: Date,
  warningDays: number,
  reminderDays: readonly number[]
): boolean {
  const left = daysUntilDue(dueAt, now)
  if (left < 1 || left > warningDays) return false
  return left === warningDays || reminderDays.includes(left)
}

/**
 * The warning window of a reason, in days. Warnings whose clock starts with an event of the tool
 * (a rotation starts the installation grace Gi, a deactivation or first sighting of an inactive
 * key starts the recovery grace Gr) cannot be warned about more than Gi or Gr days ahead: with
 * W ≥ Gi the window opens at the rotation itself, whose own mail announces the deactivation
 * date. An inactive key first seen by this run has exactly Gr days left, so with W ≥ Gr its
 * warning is mailed on that first sighting.
 */
export function warningWindowDays(
  reason: ReasonCode,
  policy: { readonly W: number; readonly Gi: number; readonly Gr: number }
): number {
  if (reason === 'KEY_PENDING_DEACTIVATION') return Math.min(policy.W, policy.Gi)
  // The wait starts when the deactivation was due, Gi days before it escalates: mailed at once.
  if (reason === 'DEACTIVATION_WAITS_FOR_NEW_KEY') return policy.Gi
  if (reason === 'KEY_PENDING_DELETION') return Math.min(policy.W, policy.Gr)
  return policy.W
}
