/**
 * Accounts in scope that are not scanned, by reason: their AWS Organizations state (SUSPENDED,
 * PENDING_CLOSURE, …) or NOT_REACHED (a stopped shard's).
 */

/** A skip reason as words: SUSPENDED → "suspended", PENDING_CLOSURE → "pending closure". */
export function skipLabel(reason: string): string {
  return reason.toLowerCase().replaceAll('_', ' ')
}

/** "2 suspended, 1 pending closure": how many accounts for each reason, most first. */
export function skippedStates(reasons: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1)
  return [...counts.entries()]
    .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .map(([reason, count]) => `${count} ${skipLabel(reason)}`)
    .join(', ')
}
