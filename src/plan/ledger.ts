import type { KeySpool } from '../report/key-spool.js'
import type { AccountSpool } from '../report/spool.js'
import { addAccountTotals, emptyTotals } from './build.js'
import type { KeyOutlook } from './outlook.js'
import type { PlanAccount, PlanAction, PlanTotals } from './types.js'

/** Every key the scan sees, account by account: keys.csv's rows on disk, and the outlook's counts. */
export interface KeyInventory {
  readonly rows: KeySpool
  readonly outlook: KeyOutlook
}

/**
 * The run's accounts as they are finished: each goes to the spool on disk (and into the totals)
 * once nothing about it will change, so memory holds only the accounts with changes still to
 * make. If the run is stopped, the accounts still held go in as they stand.
 */
export class PlanLedger {
  private readonly held = new Map<string, PlanAccount>()
  private readonly counts = emptyTotals({ apiCalls: 0, throttledRetries: 0 })

  constructor(
    private readonly spool: AccountSpool,
    private readonly enforce: boolean,
    /** Where the scan puts every key it sees (keys.csv, the outlook); none: not kept. */
    readonly inventory?: KeyInventory
  ) {}

  /** A scanned account whose changes are still to be made; its actions are updated in place. */
  hold(account: PlanAccount): void {
    this.held.set(account.accountId, account)
  }

  /** Once per account: a late finish (after the run was stopped and wrote it) is ignored. */
  finish(account: PlanAccount): void {
    if (this.spool.has(account.accountId)) return
    this.held.delete(account.accountId)
    this.spool.add(account)
    addAccountTotals(this.counts, account, this.enforce)
  }

  /**
   * The run was stopped: every account still held is finished as it stands. A change still
   * planned (not started, or started without an answer yet) is marked skipped with `why`; one
   * whose result came back is kept.
   */
  finishHeld(why: string): void {
    for (const account of [...this.held.values()]) {
      for (const user of account.users) {
        const unmade = [...user.actions.filter(isChange), ...(user.secret?.repairs ?? [])]
        for (const change of unmade) {
          if (change.result !== 'planned') continue
          change.result = 'skipped'
          change.error = why
        }
      }
      this.finish(account)
    }
  }

  /** Finished accounts, read back from disk in report order. */
  get accounts(): Iterable<PlanAccount> {
    return this.spool
  }

  totals(calls: { apiCalls: number; throttledRetries: number }): PlanTotals {
    return { ...this.counts, ...calls }
  }
}

function isChange(action: PlanAction): boolean {
  return action.type !== 'WARN' && action.type !== 'BLOCKED'
}
