import type { PlanAccount } from '../plan/types.js'

/** A titled annotation on the run (GitHub shows ten of each severity per step). */
export interface Annotation {
  readonly title: string
  readonly message: string
}

/** GitHub shows this many annotations of each severity per step; the rest are dropped unseen. */
export const ANNOTATION_LIMIT = 10
/** Lines of a folded annotation; the rest are in plan.md. */
const FOLDED_LINES = 50

/**
 * One annotation per account that could not be processed, or one for all of them when there
 * are more than `limit` (GitHub keeps only ten of each severity per step; the step's failure
 * message takes one error of its own).
 */
export function accountFailureAnnotations(
  accounts: Iterable<PlanAccount>,
  limit = ANNOTATION_LIMIT
): Annotation[] {
  const failed: PlanAccount[] = []
  for (const account of accounts) if (account.status === 'failed') failed.push(account)
  const line = (account: PlanAccount) =>
    `${account.accountId} (${account.accountName}): ${account.error ?? 'unknown error'}`
  if (failed.length <= limit) {
    return failed.map(account => ({
      title: `Account ${account.accountId} failed`,
      // An error that is a sentence already ends with its own full stop.
      message: `${line(account).replace(/\.?$/, '.')} The other accounts were processed; the next run tries this one again.`
    }))
  }
  const shown = failed.slice(0, FOLDED_LINES).map(line)
  const more = failed.length - shown.length
  return [
    {
      title: `${failed.length} accounts failed`,
      message: [
        `${failed.length} accounts could not be processed; the other accounts were processed.`,
        ...shown,
        ...(more > 0 ? [`… and ${more} more: see plan.md in the report artifact.`] : [])
      ].join('\n')
    }
  ]
}
